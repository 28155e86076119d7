-- Unions (CMurphi): members numbered in one union, arrays indexed by it,
-- `ismember`, member values assigned to and read from union variables.
const N: 2;
type
  Home: scalarset(1);
  Remote: scalarset(N);
  Kind: enum { idle, busy };
  Node: union { Home, Remote };
  Any: union { Kind, Remote };
var
  owner: Node;
  last: Remote;
  flag: array [Node] of boolean;
  seen: array [Node] of Any;

startstate begin
  for n: Node do flag[n] := false; seen[n] := idle; end;
end;

ruleset n: Node do
  rule "grab" isundefined(owner) & !flag[n] ==> begin
    owner := n; flag[n] := true;
    if ismember(n, Remote) then last := n; seen[n] := last; else seen[n] := busy; end;
  end;
  rule "drop" !isundefined(owner) & owner = n ==> begin
    undefine owner;
    switch seen[n]
    case busy: seen[n] := idle;
    case idle: error "dropped while idle";
    else flag[n] := false;
    end;
  end;
end;

ruleset r: Remote do
  rule "poke" !isundefined(last) & last != r & flag[r] ==> begin
    flag[r] := false; seen[r] := last;
  end;
end;

rule "home reset" exists h: Home do flag[h] end ==> begin
  for h: Home do flag[h] := false; end;
end;

invariant "owner flagged" isundefined(owner) | flag[owner] | ismember(owner, Home);
