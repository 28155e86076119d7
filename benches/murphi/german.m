-- Steven German's cache-coherence protocol, written in Murphi from
-- specs/german.fathom for Fathom's comparison with Rumur. Nodes are a
-- scalarset (symmetric); data values are a plain subrange, as in the Fathom
-- specs. `undefine` leaves a value undefined, which Murphi stores as a
-- value of its own (Fathom: -1 for data, NoPtr for the pointer).
-- Rumur takes no constants on its command line: the harness rewrites NodeNum.
const NodeNum: 3;
const DataNum: 2;
type
  Node: scalarset(NodeNum);
  Data: 0..DataNum-1;
  CacheState: enum { I, S, E };
  MsgCmd: enum { Empty, ReqS, ReqE, Inv, InvAck, GntS, GntE };
  Cache: record State: CacheState; Data: Data; end;
  Message: record Cmd: MsgCmd; Data: Data; end;
var
  cache: array [Node] of Cache;
  chan1: array [Node] of Message;
  chan2: array [Node] of Message;
  chan3: array [Node] of Message;
  invSet: array [Node] of boolean;
  shrSet: array [Node] of boolean;
  exGntd: boolean;
  curCmd: MsgCmd;
  curPtr: Node;
  memData: Data;
  auxData: Data;

ruleset d: Data do startstate "Start" begin
  for i: Node do
    cache[i].State := I; undefine cache[i].Data;
    chan1[i].Cmd := Empty; undefine chan1[i].Data;
    chan2[i].Cmd := Empty; undefine chan2[i].Data;
    chan3[i].Cmd := Empty; undefine chan3[i].Data;
    invSet[i] := false;
    shrSet[i] := false;
  end;
  exGntd := false;
  curCmd := Empty;
  undefine curPtr;
  memData := d;
  auxData := d;
end; end;

ruleset i: Node do
  rule "SendReqS" chan1[i].Cmd = Empty & cache[i].State = I ==> begin chan1[i].Cmd := ReqS; end;
  rule "SendReqE" chan1[i].Cmd = Empty & (cache[i].State = I | cache[i].State = S) ==> begin
    chan1[i].Cmd := ReqE; end;
  rule "RecvReqS" curCmd = Empty & chan1[i].Cmd = ReqS ==> begin
    curCmd := ReqS; curPtr := i; chan1[i].Cmd := Empty;
    for j: Node do invSet[j] := shrSet[j]; end; end;
  rule "RecvReqE" curCmd = Empty & chan1[i].Cmd = ReqE ==> begin
    curCmd := ReqE; curPtr := i; chan1[i].Cmd := Empty;
    for j: Node do invSet[j] := shrSet[j]; end; end;
  rule "SendInv" chan2[i].Cmd = Empty & invSet[i] & (curCmd = ReqE | curCmd = ReqS & exGntd) ==> begin
    chan2[i].Cmd := Inv; invSet[i] := false; end;
  rule "SendInvAck" chan2[i].Cmd = Inv & chan3[i].Cmd = Empty ==> begin
    chan2[i].Cmd := Empty; chan3[i].Cmd := InvAck;
    if cache[i].State = E then chan3[i].Data := cache[i].Data; end;
    cache[i].State := I; undefine cache[i].Data; end;
  rule "RecvInvAck" chan3[i].Cmd = InvAck & curCmd != Empty ==> begin
    chan3[i].Cmd := Empty; shrSet[i] := false;
    if exGntd then exGntd := false; memData := chan3[i].Data; undefine chan3[i].Data; end; end;
  rule "SendGntS" curCmd = ReqS & !isundefined(curPtr) & curPtr = i & chan2[i].Cmd = Empty & !exGntd ==> begin
    chan2[i].Cmd := GntS; chan2[i].Data := memData; shrSet[i] := true;
    curCmd := Empty; undefine curPtr; end;
  rule "SendGntE" curCmd = ReqE & !isundefined(curPtr) & curPtr = i & chan2[i].Cmd = Empty & !exGntd
      & forall j: Node do !shrSet[j] end ==> begin
    chan2[i].Cmd := GntE; chan2[i].Data := memData; shrSet[i] := true; exGntd := true;
    curCmd := Empty; undefine curPtr; end;
  rule "RecvGntS" chan2[i].Cmd = GntS ==> begin
    cache[i].State := S; cache[i].Data := chan2[i].Data; chan2[i].Cmd := Empty; undefine chan2[i].Data; end;
  rule "RecvGntE" chan2[i].Cmd = GntE ==> begin
    cache[i].State := E; cache[i].Data := chan2[i].Data; chan2[i].Cmd := Empty; undefine chan2[i].Data; end;
end;

ruleset i: Node; d: Data do
  rule "Store" cache[i].State = E ==> begin cache[i].Data := d; auxData := d; end;
end;

invariant "CtrlProp" forall i: Node do forall j: Node do i != j ->
  ((cache[i].State = E -> cache[j].State = I) &
   (cache[i].State = S -> cache[j].State = I | cache[j].State = S)) end end;
invariant "DataProp" (!exGntd -> memData = auxData) &
  forall i: Node do cache[i].State != I -> cache[i].Data = auxData end;
