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
VARIABLES store, busy, client, putKey, acks, bstore, waiting, q, crashes
vars == <<store, busy, client, putKey, acks, bstore, waiting, q, crashes>>

Init == /\ store = [k \in Key |-> -1] /\ busy = FALSE /\ client = 0
        /\ putKey = 0 /\ acks = 0
        /\ bstore = [b \in BackupId |-> [k \in Key |-> -1]]
        /\ waiting = [c \in ClientId |-> FALSE]
        /\ q = [s \in Procs |-> [d \in Procs |-> <<>>]]
        /\ crashes = 0

Send(qq, s, d, m) == [qq EXCEPT ![s][d] = Append(@, m)]
Take(qq, s, d) == [qq EXCEPT ![s][d] = Tail(@)]
At(s, d, m) == q[s][d] # <<>> /\ Head(q[s][d]) = m

\* Primary: on Put { c, key, val } when !busy
RcvPut(s, c, k, v) ==
  /\ At(s, P, <<"Put", c, k, v>>) /\ ~busy
  /\ store' = [store EXCEPT ![k] = v] /\ busy' = TRUE /\ client' = c
  /\ putKey' = k /\ acks' = 0
  /\ q' = LET q1 == Take(q, s, P)
              RECURSIVE Bc(_, _)
              Bc(qq, i) == IF i = Backups THEN qq
                           ELSE Bc(Send(qq, P, B(i), <<"Replicate", k, v>>), i + 1)
          IN Bc(q1, 0)
  /\ UNCHANGED <<bstore, waiting, crashes>>
\* Primary: on Replicated when busy
RcvReplicated(s) ==
  /\ At(s, P, <<"Replicated">>) /\ busy
  /\ acks' = acks + 1
  /\ IF acks + 1 = Backups
       THEN busy' = FALSE
            /\ q' = Send(Take(q, s, P), P, C(client), <<"PutOk", putKey>>)
       ELSE busy' = busy /\ q' = Take(q, s, P)
  /\ UNCHANGED <<store, client, putKey, bstore, waiting, crashes>>
\* Primary: on Get { c, key }
RcvGet(s, c, k) ==
  /\ At(s, P, <<"Get", c, k>>)
  /\ q' = Send(Take(q, s, P), P, C(c), <<"GetOk", k, store[k]>>)
  /\ UNCHANGED <<store, busy, client, putKey, acks, bstore, waiting, crashes>>
\* Backup[b]: on Replicate { key, val }
RcvReplicate(b, s, k, v) ==
  /\ At(s, B(b), <<"Replicate", k, v>>)
  /\ bstore' = [bstore EXCEPT ![b][k] = v]
  /\ q' = Send(Take(q, s, B(b)), B(b), s, <<"Replicated">>)
  /\ UNCHANGED <<store, busy, client, putKey, acks, waiting, crashes>>
\* Client[c]: input Put(key, val), input Get(key)
Put(c, k, v) ==
  /\ ~waiting[c] /\ waiting' = [waiting EXCEPT ![c] = TRUE]
  /\ q' = Send(q, C(c), P, <<"Put", c, k, v>>)
  /\ UNCHANGED <<store, busy, client, putKey, acks, bstore, crashes>>
Get(c, k) ==
  /\ ~waiting[c] /\ waiting' = [waiting EXCEPT ![c] = TRUE]
  /\ q' = Send(q, C(c), P, <<"Get", c, k>>)
  /\ UNCHANGED <<store, busy, client, putKey, acks, bstore, crashes>>
\* Client[c]: on PutOk { key }, on GetOk { key, val }
RcvPutOk(c, s, k) ==
  /\ At(s, C(c), <<"PutOk", k>>)
  /\ waiting' = [waiting EXCEPT ![c] = FALSE] /\ q' = Take(q, s, C(c))
  /\ UNCHANGED <<store, busy, client, putKey, acks, bstore, crashes>>
RcvGetOk(c, s, k, v) ==
  /\ At(s, C(c), <<"GetOk", k, v>>)
  /\ waiting' = [waiting EXCEPT ![c] = FALSE] /\ q' = Take(q, s, C(c))
  /\ UNCHANGED <<store, busy, client, putKey, acks, bstore, crashes>>
\* network.Crash(p): every variable is durable, so only the count changes.
Crash(p) == /\ crashes < 1 /\ crashes' = crashes + 1
            /\ UNCHANGED <<store, busy, client, putKey, acks, bstore, waiting, q>>

Next ==
  \/ \E c \in ClientId, k \in Key, v \in Val : Put(c, k, v)
  \/ \E c \in ClientId, k \in Key : Get(c, k)
  \/ \E s \in Procs, c \in ClientId, k \in Key, v \in Val : RcvPut(s, c, k, v)
  \/ \E s \in Procs : RcvReplicated(s)
  \/ \E s \in Procs, c \in ClientId, k \in Key : RcvGet(s, c, k)
  \/ \E b \in BackupId, s \in Procs, k \in Key, v \in Val : RcvReplicate(b, s, k, v)
  \/ \E c \in ClientId, s \in Procs, k \in Key : RcvPutOk(c, s, k)
  \/ \E c \in ClientId, s \in Procs, k \in Key, v \in -1..Vals-1 : RcvGetOk(c, s, k, v)
  \/ \E p \in Procs : Crash(p)

Replicated == ~busy => \A b \in BackupId : \A k \in Key : bstore[b][k] = store[k]
\* The network's capacity (1 per queue) is never exceeded.
Capacity == \A s, d \in Procs : Len(q[s][d]) <= 1
====
