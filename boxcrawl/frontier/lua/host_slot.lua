-- Politeness shared by every worker: may a page of this host start now?
-- ARGV: prefix, host, url, max_concurrent, delay, ttl -> '0' (slot taken) or seconds to wait.
-- A slot is a lease-like entry with a deadline, so a dead worker's slots free themselves.
local p, host, url = ARGV[1], ARGV[2], ARGV[3]
local conc, delay, ttl = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local active, nextk = p .. 'host:' .. host .. ':active', p .. 'host:' .. host .. ':next'
redis.call('ZREMRANGEBYSCORE', active, '-inf', now)
local next_at = tonumber(redis.call('GET', nextk) or '0')
if next_at > now then return tostring(next_at - now) end
if redis.call('ZCARD', active) >= conc then return '0.2' end
redis.call('ZADD', active, now + ttl, url)
redis.call('EXPIRE', active, math.ceil(ttl) + 1)
if delay > 0 then
  redis.call('SET', nextk, tostring(now + delay), 'PX', math.ceil(delay * 1000) + 1000)
end
return '0'
