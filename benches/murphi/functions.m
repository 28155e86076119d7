-- Functions with local variables and statements called from statements
-- (lowered by hoisting their bodies before the statement). Rumur 2022.08.20,
-- --symmetry-reduction off --deadlock-detection off: 64 states, 144 rules fired.
const N: 3;
type idx: 0 .. N - 1;
     val: 0 .. 7;
     cell: record v: val; seen: boolean; end;
var a: array [idx] of cell;
    total: 0 .. 30;

function sum(): 0 .. 30;
  var s: 0 .. 30;
begin
  s := 0;
  for i: idx do
    s := s + a[i].v;
  end;
  return s;
end;

function bump(c: cell): cell;
  var d: cell;
begin
  d := c;
  if d.v < 7 then d.v := d.v + 1; else d.v := 0; end;
  d.seen := true;
  return d;
end;

startstate begin
  for i: idx do a[i].v := 0; a[i].seen := false; end;
  total := 0;
end;

ruleset i: idx do
  rule "bump"
    a[i].v < 3
  ==>
  begin
    a[i] := bump(a[i]);
    total := sum();
  end;
end;

invariant "total" total = a[0].v + a[1].v + a[2].v;
