--[[
  Commits one applied control command in a single step: appends it to the
  control log, stores its result under its requestId and moves the generator's
  cursor past it. Either all of it happens or none: a stored result (which makes
  a repeated requestId apply nothing) never exists for a command the log lacks.

  The log entry is written first because it is the only write that can fail on
  its own (WRONGTYPE, a bad MAXLEN): Redis does not undo a script's earlier
  writes when a later command fails, so nothing is written before it. Each entry
  names the one before it (`prev`), so a reader of the entries after an id can
  tell whether trimming (MAXLEN) removed any of them.

    Input:
      KEYS[1] result key      <prefix>:{<world>}:control:result:<requestId>
      KEYS[2] control log     <prefix>:{<world>}:control:log
      KEYS[3] control cursor  <prefix>:{<world>}:control:cursor

      ARGV[1]  result (JSON)
      ARGV[2]  result TTL, seconds
      ARGV[3]  control stream entry id (the new cursor)
      ARGV[4]  "1": append to the control log; "0": a read-only command (result and cursor only)
      ARGV[5]  control log length kept (MAXLEN ~)
      ARGV[6]  requestId
      ARGV[7]  action
      ARGV[8]  payload (JSON)
      ARGV[9]  simulation time the command took effect (ISO 8601)
      ARGV[10] "1" applied / "0" refused

    Output:
      { stored, logId }
        stored: the result stored earlier for this requestId ("" when this one was stored;
                nothing is logged then)
        logId:  id of the new control-log entry ("" when none was appended)
]]
local rkey, logKey, cursorKey = KEYS[1], KEYS[2], KEYS[3]

local prev = redis.call("GET", rkey)
if prev then
  redis.call("SET", cursorKey, ARGV[3])
  return { prev, "" }
end

local logId = ""
if ARGV[4] == "1" then
  -- (on a key of another type this fails, before anything is written)
  local last = redis.call("XREVRANGE", logKey, "+", "-", "COUNT", 1)[1]
  local prevId = last and last[1] or "0-0"
  logId = redis.call("XADD", logKey, "MAXLEN", "~", ARGV[5], "*",
    "r", ARGV[6], "a", ARGV[7], "p", ARGV[8], "sim", ARGV[9], "ok", ARGV[10], "prev", prevId)
end
redis.call("SET", rkey, ARGV[1], "EX", ARGV[2])
redis.call("SET", cursorKey, ARGV[3])
return { "", logId }
