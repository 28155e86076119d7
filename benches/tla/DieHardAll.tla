---- MODULE DieHardAll ----
\* The jug puzzle with several invariants that fail at different depths,
\* for `fathom check --continue` beside TLC -continue (specs/die_hard_all.fathom).
EXTENDS Naturals
VARIABLES big, small
Min(m, n) == IF m < n THEN m ELSE n
Init == big = 0 /\ small = 0
FillSmall == small' = 3 /\ big' = big
FillBig == big' = 5 /\ small' = small
EmptySmall == small' = 0 /\ big' = big
EmptyBig == big' = 0 /\ small' = small
SmallToBig == /\ big' = Min(big + small, 5)
              /\ small' = small - (big' - big)
BigToSmall == /\ small' = Min(big + small, 3)
              /\ big' = big - (small' - small)
Next == FillSmall \/ FillBig \/ EmptySmall \/ EmptyBig \/ SmallToBig \/ BigToSmall
Spec == Init /\ [][Next]_<<big, small>>
NotSolved == big # 4
NotOne == big # 1
SmallNotTwo == small # 2
NotFull == big + small < 8
NeverEmptyAfterFull == ~(big = 0 /\ small = 1)
====
