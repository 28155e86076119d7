---- MODULE AlternatingBit ----
\* The alternating-bit protocol over lossy FIFO channels of capacity Cap,
\* written to mirror specs/alternating_bit.fathom for TLC.
EXTENDS Naturals, Sequences
CONSTANTS M, Cap
VARIABLES sbit, sval, rexp, rgot, toR, toS
Init == /\ sbit = FALSE /\ sval = 0 /\ rexp = FALSE /\ rgot = 0
        /\ toR = <<>> /\ toS = <<>>
Send == /\ Len(toR) < Cap
        /\ toR' = Append(toR, [kind |-> "Data", bit |-> sbit, val |-> sval])
        /\ UNCHANGED <<sbit, sval, rexp, rgot, toS>>
RcvAck == /\ toS # <<>>
          /\ toS' = Tail(toS)
          /\ IF Head(toS).ab = sbit
               THEN sbit' = ~sbit /\ sval' = (sval + 1) % M
               ELSE UNCHANGED <<sbit, sval>>
          /\ UNCHANGED <<rexp, rgot, toR>>
RcvData == /\ toR # <<>>
           /\ Len(toS) < Cap
           /\ toR' = Tail(toR)
           /\ IF Head(toR).bit = rexp
                THEN rgot' = Head(toR).val /\ rexp' = ~rexp
                ELSE UNCHANGED <<rgot, rexp>>
           /\ toS' = Append(toS, [kind |-> "Ack", ab |-> Head(toR).bit])
           /\ UNCHANGED <<sbit, sval>>
Drop(q, i) == SubSeq(q, 1, i - 1) \o SubSeq(q, i + 1, Len(q))
LoseR == \E i \in 1..Len(toR) : toR' = Drop(toR, i) /\ UNCHANGED <<sbit, sval, rexp, rgot, toS>>
LoseS == \E i \in 1..Len(toS) : toS' = Drop(toS, i) /\ UNCHANGED <<sbit, sval, rexp, rgot, toR>>
Next == Send \/ RcvAck \/ RcvData \/ LoseR \/ LoseS
InOrder == (rexp # sbit) => (rgot = sval)
====
