---- MODULE KvStore ----
\* Written to mirror specs/kv_store.fathom for TLC: a primary, backups and
\* clients over a FIFO network (one queue per (source, destination) pair,
\* receipt takes the head) with one crash, which resets nothing here since
\* every variable is durable. Messages are tuples <<kind, fields...>>.
EXTENDS Naturals, Integers, Sequences
CONSTANTS Keys, Vals, Backups, Clients
Key == 0..Keys-1
Val == 0..Vals-1
BackupId == 0..Backups-1
ClientId == 0..Clients-1
\* Process ids: the primary, then the backups, then the clients.
P == <<"P", 0>>
B(b) == <<"B", b>>
C(c) == <<"C", c>>
Procs == {P} \cup {B(b) : b \in BackupId} \cup {C(c) : c \in ClientId}
VARIABLES store, bstore, waiting, acks, q, crashes
vars == <<store, bstore, waiting, acks, q, crashes>>

Init == /\ store = [k \in Key |-> -1] /\ acks = [c \in ClientId |-> 0]
        /\ bstore = [b \in BackupId |-> [k \in Key |-> -1]]
        /\ waiting = [c \in ClientId |-> FALSE]
        /\ q = [s \in Procs |-> [d \in Procs |-> <<>>]]
        /\ crashes = 0

Send(qq, s, d, m) == [qq EXCEPT ![s][d] = Append(@, m)]
Take(qq, s, d) == [qq EXCEPT ![s][d] = Tail(@)]
At(s, d, m) == q[s][d] # <<>> /\ Head(q[s][d]) = m

\* Primary: on Put { c, key, val }
RcvPut(s, c, k, v) ==
  /\ At(s, P, <<"Put", c, k, v>>)
  /\ store' = [store EXCEPT ![k] = v]
  /\ q' = LET q1 == Take(q, s, P)
              RECURSIVE Bc(_, _)
              Bc(qq, i) == IF i = Backups THEN qq
                           ELSE Bc(Send(qq, P, B(i), <<"Replicate", c, k, v>>), i + 1)
          IN Bc(q1, 0)
  /\ UNCHANGED <<acks, bstore, waiting, crashes>>
\* Primary: on Get { c, key }
RcvGet(s, c, k) ==
  /\ At(s, P, <<"Get", c, k>>)
  /\ q' = Send(Take(q, s, P), P, C(c), <<"GetOk", k, store[k]>>)
  /\ UNCHANGED <<store, acks, bstore, waiting, crashes>>
\* Backup[b]: on Replicate { c, key, val }
RcvReplicate(b, s, c, k, v) ==
  /\ At(s, B(b), <<"Replicate", c, k, v>>)
  /\ bstore' = [bstore EXCEPT ![b][k] = v]
  /\ q' = Send(Take(q, s, B(b)), B(b), C(c), <<"Replicated", k>>)
  /\ UNCHANGED <<store, acks, waiting, crashes>>
\* Client[c]: input Put(key, val), input Get(key)
Put(c, k, v) ==
  /\ ~waiting[c] /\ waiting' = [waiting EXCEPT ![c] = TRUE]
  /\ q' = Send(q, C(c), P, <<"Put", c, k, v>>)
  /\ UNCHANGED <<store, acks, bstore, crashes>>
Get(c, k) ==
  /\ ~waiting[c] /\ waiting' = [waiting EXCEPT ![c] = TRUE]
  /\ q' = Send(q, C(c), P, <<"Get", c, k>>)
  /\ UNCHANGED <<store, acks, bstore, crashes>>
\* Client[c]: on Replicated { key }, on GetOk { key, val }
RcvReplicated(c, s, k) ==
  /\ At(s, C(c), <<"Replicated", k>>)
  /\ IF acks[c] + 1 = Backups
       THEN acks' = [acks EXCEPT ![c] = 0] /\ waiting' = [waiting EXCEPT ![c] = FALSE]
       ELSE acks' = [acks EXCEPT ![c] = @ + 1] /\ waiting' = waiting
  /\ q' = Take(q, s, C(c))
  /\ UNCHANGED <<store, bstore, crashes>>
RcvGetOk(c, s, k, v) ==
  /\ At(s, C(c), <<"GetOk", k, v>>)
  /\ waiting' = [waiting EXCEPT ![c] = FALSE] /\ q' = Take(q, s, C(c))
  /\ UNCHANGED <<store, acks, bstore, crashes>>
\* network.Crash(p): every variable is durable, so only the count changes.
Crash(p) == /\ crashes < 1 /\ crashes' = crashes + 1
            /\ UNCHANGED <<store, bstore, waiting, acks, q>>

Next ==
  \/ \E c \in ClientId, k \in Key, v \in Val : Put(c, k, v)
  \/ \E c \in ClientId, k \in Key : Get(c, k)
  \/ \E s \in Procs, c \in ClientId, k \in Key, v \in Val : RcvPut(s, c, k, v)
  \/ \E s \in Procs, c \in ClientId, k \in Key : RcvGet(s, c, k)
  \/ \E b \in BackupId, s \in Procs, c \in ClientId, k \in Key, v \in Val : RcvReplicate(b, s, c, k, v)
  \/ \E c \in ClientId, s \in Procs, k \in Key : RcvReplicated(c, s, k)
  \/ \E c \in ClientId, s \in Procs, k \in Key, v \in -1..Vals-1 : RcvGetOk(c, s, k, v)
  \/ \E p \in Procs : Crash(p)

Replicated == (\A c \in ClientId : ~waiting[c]) =>
                \A b \in BackupId : \A k \in Key : bstore[b][k] = store[k]
\* The network's capacity (Clients per queue) is never exceeded.
Capacity == \A s, d \in Procs : Len(q[s][d]) <= Clients
====
