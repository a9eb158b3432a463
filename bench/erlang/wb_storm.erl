%% wb_storm: the activation storm on Erlang/OTP. Callers worker processes
%% spawn N processes in all and ask each one once (send, wait for the
%% answer); the processes stay alive. Resident memory is read from
%% /proc/self/status (VmRSS) before and after.
%%
%%   erl -noshell -pa DIR -s wb_storm main N Callers -s init stop
%%
%% prints "RESULT per_s=X kib_per=Y".
-module(wb_storm).
-export([main/1]).

main([NA, CallersA]) ->
    N = int(NA),
    Callers = int(CallersA),
    warm(),
    erlang:garbage_collect(),
    Rss0 = rss_kib(),
    Self = self(),
    T0 = erlang:monotonic_time(nanosecond),
    Workers = [spawn(fun() -> Self ! {worker_done, self(), spawn_n(share(N, Callers, I))} end)
               || I <- lists:seq(0, Callers - 1)],
    Pids = lists:append([receive {worker_done, W, Ps} -> Ps end || W <- Workers]),
    T = (erlang:monotonic_time(nanosecond) - T0) / 1.0e9,
    erlang:garbage_collect(),
    Rss1 = rss_kib(),
    N = length(Pids),
    io:format("RESULT per_s=~f kib_per=~f~n", [N / T, (Rss1 - Rss0) / N]).

int(A) when is_atom(A) -> list_to_integer(atom_to_list(A)).

%% how many of N caller I of Callers spawns
share(N, Callers, I) when I < N rem Callers -> N div Callers + 1;
share(N, Callers, _) -> N div Callers.

warm() -> [P] = spawn_n(1), P.

spawn_n(K) -> spawn_n(K, []).
spawn_n(0, Acc) -> Acc;
spawn_n(K, Acc) ->
    P = spawn(fun actor/0),
    P ! {get, self()},
    receive {n, P, 0} -> ok end,
    spawn_n(K - 1, [P | Acc]).

actor() -> actor(0).
actor(Count) ->
    receive
        {get, From} -> From ! {n, self(), Count}, actor(Count);
        {add, K} -> actor(Count + K);
        stop -> ok
    end.

rss_kib() ->
    {ok, B} = file:read_file("/proc/self/status"),
    [Line] = [L || L <- binary:split(B, <<"\n">>, [global]), binary:match(L, <<"VmRSS:">>) =:= {0, 6}],
    [_, Kib | _] = string:lexemes(binary_to_list(Line), " \t"),
    list_to_integer(Kib).
