---- MODULE DurableRegister ----
\* Written to mirror specs/durable_register.fathom: a bag network (a count
\* per envelope), one crash that resets a process's non-durable variables.
EXTENDS Naturals, Integers, FiniteSets
CONSTANTS Vals
Val == 0..Vals-1
VARIABLES pending, acked, stored, writes, net, crashes
vars == <<pending, acked, stored, writes, net, crashes>>
Procs == {"C", "S"}
Msgs == [kind : {"Write", "Ack"}, v : Val]
Env == [src : Procs, dst : Procs, msg : Msgs]
RECURSIVE Sum(_)
Sum(S) == IF S = {} THEN 0 ELSE LET e == CHOOSE x \in S : TRUE IN net[e] + Sum(S \ {e})
InFlight(s, d) == Sum({e \in Env : e.src = s /\ e.dst = d})
E(s, d, k, v) == [src |-> s, dst |-> d, msg |-> [kind |-> k, v |-> v]]
Min(a, b) == IF a < b THEN a ELSE b
Init == /\ pending = -1 /\ acked = -1 /\ stored = -1 /\ writes = 0
        /\ net = [e \in Env |-> 0] /\ crashes = 0
Put(v) == /\ pending = -1 /\ InFlight("C", "S") = 0
          /\ pending' = v
          /\ net' = [net EXCEPT ![E("C", "S", "Write", v)] = @ + 1]
          /\ UNCHANGED <<acked, stored, writes, crashes>>
Retry == /\ pending # -1 /\ InFlight("C", "S") = 0
         /\ net' = [net EXCEPT ![E("C", "S", "Write", pending)] = @ + 1]
         /\ UNCHANGED <<pending, acked, stored, writes, crashes>>
RcvAck(s, v) == /\ net[E(s, "C", "Ack", v)] > 0
                /\ net' = [net EXCEPT ![E(s, "C", "Ack", v)] = @ - 1]
                /\ IF v = pending THEN pending' = -1 /\ acked' = v
                                 ELSE UNCHANGED <<pending, acked>>
                /\ UNCHANGED <<stored, writes, crashes>>
RcvWrite(s, v) == /\ net[E(s, "S", "Write", v)] > 0 /\ InFlight("S", "C") = 0
                  /\ stored' = v /\ writes' = Min(writes + 1, 2)
                  /\ net' = [[net EXCEPT ![E(s, "S", "Write", v)] = @ - 1]
                               EXCEPT ![E("S", s, "Ack", v)] = @ + 1]
                  /\ UNCHANGED <<pending, acked, crashes>>
Crash(p) == /\ crashes < 1 /\ crashes' = crashes + 1
            /\ IF p = "C" THEN pending' = -1 /\ acked' = -1 /\ UNCHANGED <<stored, writes>>
                          ELSE writes' = 0 /\ UNCHANGED <<pending, acked, stored>>
            /\ UNCHANGED net
Next == \/ \E v \in Val : Put(v)
        \/ Retry
        \/ \E s \in Procs, v \in Val : RcvAck(s, v) \/ RcvWrite(s, v)
        \/ \E p \in Procs : Crash(p)
AckedIsStored == acked = -1 \/ pending # -1 \/ stored = acked
====
