-- Two-phase commit with symmetric resource managers (a scalarset), as
-- specs/two_phase_sym.fathom declares them; otherwise benches/murphi/two_phase.m.
-- For Rumur's symmetry reduction in benches/symmetry.py, which rewrites N.
const N: 3;
type
  RM: scalarset(N);
  RMState: enum { working, prepared, committed, aborted };
  TMState: enum { tm_init, tm_committed, tm_aborted };
var
  rmState: array [RM] of RMState;
  tmState: TMState;
  tmPrepared: array [RM] of boolean;
  msgPrepared: array [RM] of boolean;
  msgCommit: boolean;
  msgAbort: boolean;

startstate begin
  for r: RM do
    rmState[r] := working;
    tmPrepared[r] := false;
    msgPrepared[r] := false;
  end;
  tmState := tm_init;
  msgCommit := false;
  msgAbort := false;
end;

ruleset r: RM do
  rule "TMRcvPrepared" tmState = tm_init & msgPrepared[r] ==> begin tmPrepared[r] := true; end;
  rule "RMPrepare" rmState[r] = working ==> begin rmState[r] := prepared; msgPrepared[r] := true; end;
  rule "RMChooseToAbort" rmState[r] = working ==> begin rmState[r] := aborted; end;
  rule "RMRcvCommitMsg" msgCommit ==> begin rmState[r] := committed; end;
  rule "RMRcvAbortMsg" msgAbort ==> begin rmState[r] := aborted; end;
end;

rule "TMCommit" tmState = tm_init & forall r: RM do tmPrepared[r] end ==> begin
  tmState := tm_committed;
  msgCommit := true;
end;

rule "TMAbort" tmState = tm_init ==> begin
  tmState := tm_aborted;
  msgAbort := true;
end;

invariant "Consistent" forall r1: RM do forall r2: RM do
  !(rmState[r1] = aborted & rmState[r2] = committed) end end;
