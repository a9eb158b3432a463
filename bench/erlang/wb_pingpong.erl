%% wb_pingpong: the ping-pong scenario on Erlang/OTP, with gen_server
%% calls. One gen_server plays both sides: {ping, Peer, Count} calls the
%% peer's pong Count times inside its own handle_call, as the wactor
%% example asks inside its turn.
%%
%%   erl -noshell -pa DIR -s wb_pingpong main Asks Samples -s init stop
%%
%% Asks actor-to-actor calls in pings of at most 1000 give asks_per_s; then
%% Samples calls from the benchmark process to pong, each timed, give the
%% latency percentiles in microseconds. Prints
%% "RESULT asks_per_s=X p50_us=Y p99_us=Z".
-module(wb_pingpong).
-behaviour(gen_server).
-export([main/1, init/1, handle_call/3, handle_cast/2]).

main([AsksA, SamplesA]) ->
    Asks = int(AsksA),
    Samples = int(SamplesA),
    {ok, Ping} = gen_server:start(?MODULE, [], []),
    {ok, Pong} = gen_server:start(?MODULE, [], []),
    100 = gen_server:call(Ping, {ping, Pong, 100}, infinity),
    T0 = erlang:monotonic_time(nanosecond),
    pings(Ping, Pong, Asks),
    T = (erlang:monotonic_time(nanosecond) - T0) / 1.0e9,
    warm(Pong, min(Samples div 10, 1000)),
    Lat = lists:sort([time_call(Pong) || _ <- lists:seq(1, Samples)]),
    io:format("RESULT asks_per_s=~f p50_us=~f p99_us=~f~n",
              [Asks / T, pct(Lat, 50), pct(Lat, 99)]).

int(A) when is_atom(A) -> list_to_integer(atom_to_list(A)).

pings(_, _, Left) when Left =< 0 -> ok;
pings(Ping, Pong, Left) ->
    C = min(Left, 1000),
    C = gen_server:call(Ping, {ping, Pong, C}, infinity),
    pings(Ping, Pong, Left - C).

warm(_, 0) -> ok;
warm(Pong, N) -> pong = gen_server:call(Pong, pong), warm(Pong, N - 1).

time_call(Pong) ->
    T0 = erlang:monotonic_time(nanosecond),
    pong = gen_server:call(Pong, pong),
    (erlang:monotonic_time(nanosecond) - T0) / 1.0e3.

%% nearest-rank percentile of a sorted list
pct(Sorted, P) ->
    N = length(Sorted),
    Rank = max(1, min(N, ceil(P / 100 * N))),
    lists:nth(Rank, Sorted).

init([]) -> {ok, nostate}.

handle_call({ping, Peer, Count}, _From, S) ->
    [pong = gen_server:call(Peer, pong) || _ <- lists:seq(1, Count)],
    {reply, Count, S};
handle_call(pong, _From, S) ->
    {reply, pong, S}.

handle_cast(_, S) -> {noreply, S}.
