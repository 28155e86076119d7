---- MODULE Peterson ----
\* Peterson's mutual exclusion, written to mirror specs/peterson.fathom.
EXTENDS Naturals
VARIABLES flag, turn, pc
Proc == {0, 1}
Init == flag = [i \in Proc |-> FALSE] /\ turn = 0 /\ pc = [i \in Proc |-> "idle"]
SetFlag(i) == pc[i] = "idle" /\ flag' = [flag EXCEPT ![i] = TRUE]
              /\ pc' = [pc EXCEPT ![i] = "setTurn"] /\ UNCHANGED turn
SetTurn(i) == pc[i] = "setTurn" /\ turn' = 1 - i
              /\ pc' = [pc EXCEPT ![i] = "waiting"] /\ UNCHANGED flag
Enter(i) == pc[i] = "waiting" /\ (~flag[1 - i] \/ turn = i)
            /\ pc' = [pc EXCEPT ![i] = "critical"] /\ UNCHANGED <<flag, turn>>
Exit(i) == pc[i] = "critical" /\ flag' = [flag EXCEPT ![i] = FALSE]
           /\ pc' = [pc EXCEPT ![i] = "idle"] /\ UNCHANGED turn
Next == \E i \in Proc : SetFlag(i) \/ SetTurn(i) \/ Enter(i) \/ Exit(i)
Mutex == ~(pc[0] = "critical" /\ pc[1] = "critical")
====
