---- MODULE DiningPhilosophers ----
\* Naive dining philosophers, written to mirror specs/dining_philosophers.fathom.
EXTENDS Naturals
CONSTANT N
VARIABLES phase, fork
P == 0..N-1
Right(p) == (p + 1) % N
Init == phase = [p \in P |-> "thinking"] /\ fork = [p \in P |-> FALSE]
TakeLeft(p) == /\ phase[p] = "thinking" /\ ~fork[p]
               /\ fork' = [fork EXCEPT ![p] = TRUE]
               /\ phase' = [phase EXCEPT ![p] = "hasLeft"]
TakeRight(p) == /\ phase[p] = "hasLeft" /\ ~fork[Right(p)]
                /\ fork' = [fork EXCEPT ![Right(p)] = TRUE]
                /\ phase' = [phase EXCEPT ![p] = "eating"]
Release(p) == /\ phase[p] = "eating"
              /\ fork' = [fork EXCEPT ![p] = FALSE, ![Right(p)] = FALSE]
              /\ phase' = [phase EXCEPT ![p] = "thinking"]
Next == \E p \in P : TakeLeft(p) \/ TakeRight(p) \/ Release(p)
Exclusive == \A p \in P : phase[p] = "eating" => ~(phase[Right(p)] = "eating")
====
