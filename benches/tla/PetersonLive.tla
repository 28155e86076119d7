---- MODULE PetersonLive ----
\* Peterson's mutual exclusion with liveness, mirroring specs/peterson_live.fathom:
\* weak fairness of SetTurn(i), Enter(i) and Exit(i) for each i, none for SetFlag.
EXTENDS Naturals
VARIABLES flag, turn, pc
vars == <<flag, turn, pc>>
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
Fairness == \A i \in Proc : WF_vars(SetTurn(i)) /\ WF_vars(Enter(i)) /\ WF_vars(Exit(i))
Spec == Init /\ [][Next]_vars /\ Fairness
Mutex == ~(pc[0] = "critical" /\ pc[1] = "critical")
Progress == \A i \in Proc : (pc[i] = "waiting") ~> (pc[i] = "critical")
Leaves == \A i \in Proc : []<>(pc[i] /= "critical")
====
