---- MODULE TokenRing ----
\* Dijkstra's K-state self-stabilizing token ring, mirroring specs/token_ring.fathom.
EXTENDS Naturals, FiniteSets
CONSTANTS N, K
VARIABLE x
M == 0..N-1
Val == 0..K-1
Init == x \in [M -> Val]
Privileged(i) == IF i = 0 THEN x[0] = x[N-1] ELSE x[i] /= x[i-1]
Move(i) == Privileged(i) /\ x' = [x EXCEPT ![i] = IF i = 0 THEN (x[0] + 1) % K ELSE x[i-1]]
Next == \E i \in M : Move(i)
Spec == Init /\ [][Next]_x /\ WF_x(Next)
SomeToken == \E i \in M : Privileged(i)
Stabilizes == <>[](Cardinality({i \in M : Privileged(i)}) = 1)
====
