-- Functions with local variables and loops called where a statement
-- cannot run them first: in guards, an invariant and a quantifier's body
-- (Fathom lowers these calls as expressions over locals, Expr::Block),
-- and `return` inside loops (a flag the rest of the body tests).
-- Rumur 2022.08 (--symmetry-reduction off --deadlock-detection off):
-- N = 4: 21 states, 45 rules fired; N = 6: 55 states, 127 rules fired.

const N: 4;

type node: 0 .. N - 1;

var
  holds: array [node] of boolean;
  owner: node;

-- How many nodes hold a token.
function count(): 0 .. N;
  var c: 0 .. N;
begin
  c := 0;
  for i: node do
    if holds[i] then
      c := c + 1;
    end;
  end;
  return c;
end;

-- The next node after `n` that holds nothing, or `n` itself.
function next_free(n: node): node;
  var m: node;
begin
  m := n;
  for k := 1 to N - 1 do
    if !holds[(n + k) % N] then
      m := (n + k) % N;
      return m;
    end;
  end;
  return m;
end;

-- Frees the first other holder: `return` inside a `while`.
procedure shed(n: node);
  var k: 0 .. N;
begin
  k := 0;
  while k < N do
    if k != n & holds[k] then
      holds[k] := false;
      return;
    end;
    k := k + 1;
  end;
  owner := n;
end;

startstate begin
  for i: node do
    holds[i] := false;
  end;
  owner := 0;
end;

ruleset i: node do
  rule "take"
    !holds[i] & count() < 2 & next_free(owner) = i
  ==>
  begin
    holds[i] := true;
  end;

  rule "give back"
    holds[i] & (count() = 2 | i = owner)
  ==>
  begin
    holds[i] := false;
    owner := i;
  end;

  rule "shed"
    holds[i] & count() = 2 & owner != i
  ==>
  begin
    shed(i);
  end;
end;

invariant "at most two hold" count() <= 2;
invariant "someone is free" exists i: node do !holds[i] & next_free(i) != i end;
