-- bench/wrk-mix.lua: a wrk script for the load benchmarks (churn-load.sh, soak.sh, bigvma.sh).
--
--   WRK_PATHS="/metrics /api/v1/processes /api/v1/node" WRK_DELAY_MS=0 wrk -s bench/wrk-mix.lua URL
--
-- Each connection asks for the WRK_PATHS in turn (round-robin over the thread's requests) and,
-- when WRK_DELAY_MS > 0, waits that long before each request (a steady, moderate load instead
-- of a closed loop at full speed). Every answer is checked: anything but a 2xx is counted,
-- per status, and the first few bodies are kept. At the end it prints lines for the script
-- that runs wrk:
--   MIX requests=N answers=N non2xx=N
--   MIX sent PATH N                 (one line per path)
--   MIX status CODE N               (one line per non-2xx status)
--   MIX sample CODE BODY            (up to 5, the body's first 160 bytes)

local paths = {}
for p in string.gmatch(os.getenv("WRK_PATHS") or "/metrics /api/v1/processes /api/v1/node", "%S+") do
    paths[#paths + 1] = p
end
local delay_ms = tonumber(os.getenv("WRK_DELAY_MS") or "0") or 0
if delay_ms > 0 then
    function delay()
        return delay_ms
    end
end

local threads = {}

function setup(thread)
    thread:set("offset", #threads)
    threads[#threads + 1] = thread
end

function init(args)
    n = offset or 0 -- threads start at different paths
    answers = 0
    non2xx = 0
    codes = {}
    sent = {}
    samples = {}
    requests = {}
    for i, p in ipairs(paths) do
        requests[i] = wrk.format("GET", p)
        sent[p] = 0
    end
end

function request()
    n = n + 1
    local i = (n % #paths) + 1
    sent[paths[i]] = sent[paths[i]] + 1
    return requests[i]
end

function response(status, headers, body)
    answers = answers + 1
    if status < 200 or status > 299 then
        non2xx = non2xx + 1
        codes[status] = (codes[status] or 0) + 1
        if #samples < 5 then
            samples[#samples + 1] = status .. " " .. string.sub(string.gsub(body or "", "%s+", " "), 1, 160)
        end
    end
end

function done(summary, latency, reqs)
    local total_answers, total_bad, by_path, by_code, all_samples = 0, 0, {}, {}, {}
    for _, t in ipairs(threads) do
        total_answers = total_answers + t:get("answers")
        total_bad = total_bad + t:get("non2xx")
        for p, c in pairs(t:get("sent")) do
            by_path[p] = (by_path[p] or 0) + c
        end
        for code, c in pairs(t:get("codes")) do
            by_code[code] = (by_code[code] or 0) + c
        end
        for _, s in ipairs(t:get("samples")) do
            if #all_samples < 5 then
                all_samples[#all_samples + 1] = s
            end
        end
    end
    io.write(string.format("MIX requests=%d answers=%d non2xx=%d\n", summary.requests, total_answers, total_bad))
    for _, p in ipairs(paths) do
        io.write(string.format("MIX sent %s %d\n", p, by_path[p] or 0))
    end
    for code, c in pairs(by_code) do
        io.write(string.format("MIX status %d %d\n", code, c))
    end
    for _, s in ipairs(all_samples) do
        io.write("MIX sample " .. s .. "\n")
    end
end
