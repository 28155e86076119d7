---- MODULE RingSym ----
(* specs/ring_sym.fathom: a successor function without fixed points that
   is a permutation, and marks. The enabling condition is an IF, not a
   disjunction: TLC splits a disjunct of an action into branches and counts
   a successor once per true branch, where Fathom counts a rule instance
   once (with the \/, TLC counts some successors twice). *)
EXTENDS Naturals, FiniteSets, TLC
CONSTANT P
VARIABLES succ, mark
Perms == Permutations(P)
Init == /\ succ \in {s \in [P -> P] : (\A x, y \in P : x # y => s[x] # s[y]) /\ (\A x \in P : s[x] # x)}
        /\ mark = {}
Mark(x) == /\ x \notin mark
           /\ IF x = succ[succ[x]] THEN TRUE ELSE Cardinality(mark) < 2
           /\ mark' = mark \cup {x}
           /\ UNCHANGED succ
Clear == /\ Cardinality(mark) = 2
         /\ mark' = {}
         /\ UNCHANGED succ
Next == (\E x \in P : Mark(x)) \/ Clear
====
