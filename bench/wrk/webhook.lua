-- wrk script for WalverBot's webhook route: every request is a new delivery (its own wallet and signature),
-- so every 200 is a newly committed row, never a duplicate. The body comes from a template file that the
-- bench writes (WEBHOOK_TEMPLATE), with __WALLET__ and __SIGNATURE__ in place of the varying parts.
-- WEBHOOK_RUN numbers the wrk run, so that two runs against the same database send different deliveries.
-- Usage: WEBHOOK_TEMPLATE=body.json WEBHOOK_RUN=1 wrk -t2 -c16 -d10s --latency -s bench/wrk/webhook.lua http://127.0.0.1:8080/webhooks/walver

local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function init(args)
  local file = assert(io.open(assert(os.getenv("WEBHOOK_TEMPLATE"), "WEBHOOK_TEMPLATE is not set"), "r"))
  template = file:read("*a")
  file:close()
  run = tonumber(os.getenv("WEBHOOK_RUN") or "0")
  counter = 0
end

function request()
  counter = counter + 1
  -- Run, thread and counter as 16 hex digits, padded to an address (40) and a signature (130).
  local unique = string.format("%04x%04x%08x", run, tid, counter)
  local body = template
    :gsub("__WALLET__", "0x" .. string.rep("0", 24) .. unique)
    :gsub("__SIGNATURE__", "0x" .. string.rep("0", 114) .. unique)
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, body)
end
