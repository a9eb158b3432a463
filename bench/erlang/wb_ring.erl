%% wb_ring: the ring scenario on Erlang/OTP. N processes pass one token
%% around Laps times with plain sends; the node that gets the token with no
%% hops left sends done to the benchmark process.
%%
%%   erl -noshell -pa DIR -s wb_ring main N Laps -s init stop
%%
%% prints "RESULT msgs_per_s=X".
-module(wb_ring).
-export([main/1]).

main([NA, LapsA]) ->
    N = int(NA),
    Laps = int(LapsA),
    Self = self(),
    Pids = [spawn(fun() -> await_next(Self) end) || _ <- lists:seq(1, N)],
    [First | _] = Pids,
    link_ring(Pids, First),
    lap(First, N),                       % the first lap warms up
    Hops = N * Laps,
    T = lap(First, Hops),
    io:format("RESULT msgs_per_s=~f~n", [Hops / T]).

int(A) when is_atom(A) -> list_to_integer(atom_to_list(A)).

link_ring([P], First) -> P ! {next, First};
link_ring([P, Q | Rest], First) -> P ! {next, Q}, link_ring([Q | Rest], First).

await_next(Sink) ->
    receive {next, Next} -> node(Next, Sink) end.

node(Next, Sink) ->
    receive
        {pass, 0} -> Sink ! done, node(Next, Sink);
        {pass, H} -> Next ! {pass, H - 1}, node(Next, Sink)
    end.

%% lap sends the token with Hops-1 hops left and returns the seconds until
%% it is done.
lap(First, Hops) ->
    T0 = erlang:monotonic_time(nanosecond),
    First ! {pass, Hops - 1},
    receive done -> ok end,
    (erlang:monotonic_time(nanosecond) - T0) / 1.0e9.
