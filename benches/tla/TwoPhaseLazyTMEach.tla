---- MODULE TwoPhaseLazyTMEach ----
\* Each temporal property of TwoPhaseLazyTM.cfg on its own (TLC reports only
\* the first violated), for specs/two_phase_lazy_tm.expect.toml's --continue run:
\* run TLC once per TwoPhaseLazyTMEach_*.cfg.
EXTENDS TwoPhaseLive
D1 == <>(rmState[1] \in {"committed", "aborted"})
D2 == <>(rmState[2] \in {"committed", "aborted"})
D3 == <>(rmState[3] \in {"committed", "aborted"})
====
