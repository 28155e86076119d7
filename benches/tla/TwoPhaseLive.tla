---- MODULE TwoPhaseLive ----
\* TwoPhase (TwoPhase.tla) with liveness, mirroring specs/two_phase_live.fathom
\* (Spec: the TM and each RM weakly fair as a whole, PlusCal's `fair process`)
\* and specs/two_phase_lazy_tm.fathom (LazyTMSpec: only the RMs are fair).
EXTENDS TwoPhase
TMSteps == TMCommit \/ TMAbort \/ \E r \in RM : TMRcvPrepared(r)
RMSteps(r) == RMPrepare(r) \/ RMChooseToAbort(r) \/ RMRcvCommitMsg(r) \/ RMRcvAbortMsg(r)
Spec == Init /\ [][Next]_vars /\ WF_vars(TMSteps) /\ \A r \in RM : WF_vars(RMSteps(r))
LazyTMSpec == Init /\ [][Next]_vars /\ \A r \in RM : WF_vars(RMSteps(r))
Decides == \A r \in RM : <>(rmState[r] \in {"committed", "aborted"})
TMDecides == <>(tmState /= "init")
====
