---- MODULE DveSync ----
\* specs/dve_sync.dve with DiVinE 2's meaning of `system sync`, by hand:
\* both processes move at once; each transition is computed from the state
\* before the step; each keeps its own variables; a global assigned by a
\* transition comes from it, B's winning over A's.
EXTENDS Naturals

VARIABLES g, h, pa, a, pb, b
vars == <<g, h, pa, a, pb, b>>

Init == g = 0 /\ h = 0 /\ pa = "s0" /\ a = 0 /\ pb = "t0" /\ b = 0

EnA(t) == CASE t = 1 -> pa = "s0" /\ g < 3
            [] t = 2 -> pa = "s1"
            [] t = 3 -> pa = "s0" /\ a < 2
EnB(t) == CASE t = 1 -> pb = "t0" /\ g < 10
            [] t = 2 -> pb = "t1" /\ b < 4
            [] t = 3 -> pb = "t1" /\ h > 0
            [] t = 4 -> pb = "t0" /\ b < 3

Step(ta, tb) ==
  /\ pa' = CASE ta = 1 -> "s1" [] ta = 2 -> "s0" [] ta = 3 -> "s0"
  /\ a' = CASE ta = 1 -> h [] ta = 2 -> a [] ta = 3 -> a + 1
  /\ pb' = CASE tb = 1 -> "t1" [] tb = 2 -> "t0" [] tb = 3 -> "t1" [] tb = 4 -> "t0"
  /\ b' = CASE tb = 1 -> g + 2 [] tb = 2 -> b + a [] tb = 3 -> b [] tb = 4 -> b + 1
  /\ g' = IF tb = 1 THEN g + 2 ELSE IF ta = 1 THEN g + 1 ELSE g
  /\ h' = IF tb = 3 THEN h - 1 ELSE IF tb = 4 THEN h + a ELSE IF ta = 2 THEN g ELSE h

Next == \E ta \in 1..3, tb \in 1..4: EnA(ta) /\ EnB(tb) /\ Step(ta, tb)
Spec == Init /\ [][Next]_vars
Bytes == g \in 0..255 /\ h \in 0..255 /\ a \in 0..255 /\ b \in 0..255
====
