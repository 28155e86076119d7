---- MODULE SemaphoreStrong ----
\* Mirrors specs/semaphore_strong.fathom: WF of Request(i) and Release(i), SF of Acquire(i).
VARIABLES free, pc
vars == <<free, pc>>
Proc == {0, 1}
Init == free = TRUE /\ pc = [i \in Proc |-> "idle"]
Request(i) == pc[i] = "idle" /\ pc' = [pc EXCEPT ![i] = "waiting"] /\ UNCHANGED free
Acquire(i) == pc[i] = "waiting" /\ free /\ free' = FALSE /\ pc' = [pc EXCEPT ![i] = "critical"]
Release(i) == pc[i] = "critical" /\ free' = TRUE /\ pc' = [pc EXCEPT ![i] = "idle"]
Next == \E i \in Proc : Request(i) \/ Acquire(i) \/ Release(i)
Fairness == \A i \in Proc : WF_vars(Request(i)) /\ SF_vars(Acquire(i)) /\ WF_vars(Release(i))
Spec == Init /\ [][Next]_vars /\ Fairness
Mutex == ~(pc[0] = "critical" /\ pc[1] = "critical")
NoStarvation == \A i \in Proc : (pc[i] = "waiting") ~> (pc[i] = "critical")
====
