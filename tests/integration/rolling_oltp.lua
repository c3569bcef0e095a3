-- rolling_oltp.lua: sysbench 1.0's oltp_read_write, its transactions and
-- statements unchanged, for test_rolling_sysbench.sh (a helper, not a
-- suite). Four additions:
--  * unless $SB_OWN_ROWS is "0", each thread draws row ids
--    (sysbench.rand.default, oltp_common's get_id) only from its own
--    residue class modulo --threads, so no two threads ever write one row:
--    stock, two transactions updating one row end in 1213 at COMMIT in
--    sqld's optimistic mode (a conflict of the workload, not of a
--    restart), and then sysbench stops; in pessimistic mode they wait for
--    each other instead, so the stock draw is the one to run there;
--  * with $SB_TXN_MODE set, every connection first runs SET SESSION
--    tidb_txn_mode to it (the reconnected ones too); in pessimistic mode a
--    1213 that ends a statement other than COMMIT (a deadlock between two
--    threads' row locks: the stock workload's own, which sysbench ignores
--    by default on MySQL, and which ends the transaction as on InnoDB)
--    restarts the transaction and is printed "DEADLOCK <message>"; a 1213
--    at COMMIT stays fatal (a pessimistic COMMIT must not conflict);
--  * a thread ends its run before starting a transaction once the file
--    named by $SB_STOP_FILE exists (sysbench's event loop stops a thread
--    whose event() returns true), so the run lasts as long as the
--    restarts;
--  * a lost connection (2013, 2006, 2011, 2055) restarts the transaction
--    on a new connection (sysbench.hooks.sql_error_ignorable) to the next
--    sqld that answers (--mysql-port's list, round robin), within 120 s,
--    and is printed "LOST <errno> <message>" (a new connection lost
--    before its statements are prepared is replaced and printed "RELOST
--    <message>"); every other error stays
--    fatal. sysbench 1.0.20's own reconnect (--mysql-ignore-errors) does
--    mysql_close and then mysql_real_connect on the same MYSQL handle,
--    which crashes libmariadb 3 (mysql_optionsv: a use after free), so
--    the script gives --mysql-ignore-errors nothing to ignore.
require("oltp_read_write")

local stop_file = os.getenv("SB_STOP_FILE")
local own_rows = os.getenv("SB_OWN_ROWS") ~= "0"
local txn_mode = os.getenv("SB_TXN_MODE")
local rw_thread_init = thread_init

local function set_mode(c)
   if txn_mode and txn_mode ~= "" then
      c:query("SET SESSION tidb_txn_mode = '" .. txn_mode .. "'")
   end
end

function thread_init()
   rw_thread_init()
   set_mode(con)
   if not own_rows then
      return
   end
   local draw = sysbench.rand.default
   local tid = sysbench.tid
   local nt = sysbench.opt.threads
   -- ids lo + tid, lo + tid + nt, ... up to hi (tables hold >= nt rows)
   sysbench.rand.default = function(lo, hi)
      local n = math.floor((hi - lo - tid) / nt)
      return lo + tid + nt * draw(0, n)
   end
end

local rw_event = event
local rw_commit = commit
local in_commit = false -- the statement that failed is the COMMIT

function commit()
   in_commit = true
   rw_commit()
   in_commit = false
end

function event(thread_id)
   in_commit = false
   if stop_file then
      local f = io.open(stop_file, "r")
      if f then
         f:close()
         return true
      end
   end
   rw_event(thread_id)
end

local LOST = {[2013] = true, [2006] = true, [2011] = true, [2055] = true}
local ffi = require("ffi")
pcall(ffi.cdef, "int usleep(unsigned int usec);")

function sysbench.hooks.sql_error_ignorable(err)
   return LOST[err.sql_errno] == true or
      (txn_mode == "pessimistic" and err.sql_errno == 1213 and not in_commit)
end

local function reconnect(deadline)
   while true do
      local ok, c = pcall(drv.connect, drv)
      if ok then
         return c
      end
      if os.time() > deadline then
         error("no sqld took a connection in 120 s: " .. tostring(c))
      end
      ffi.C.usleep(100000)
   end
end

-- A new connection with its mode set and its statements prepared, within
-- 120 s. A connection lost on the way (its sqld stopped right after taking
-- it: the next restart came before this thread was back) is printed
-- "RELOST <message>" and replaced; sysbench never saw that error, so the
-- suite counts it among the connections a restart cut, not among
-- sysbench's ignored errors.
local function reopen()
   pcall(close_statements)
   pcall(con.disconnect, con)
   local deadline = os.time() + 120
   while true do
      con = reconnect(deadline)
      local ok, e = pcall(function()
         set_mode(con)
         prepare_statements()
      end)
      if ok then
         return
      end
      if os.time() > deadline then
         error("no sqld kept a connection in 120 s: " .. tostring(e))
      end
      io.stderr:write("RELOST " .. tostring(e) .. "\n")
      pcall(close_statements)
      pcall(con.disconnect, con)
   end
end

function sysbench.hooks.before_restart_event(err)
   io.stderr:write(string.format("%s %d %s\n",
                                 LOST[err.sql_errno] and "LOST" or "DEADLOCK",
                                 err.sql_errno, tostring(err.sql_errmsg)))
   if LOST[err.sql_errno] then
      reopen()
   end
end
