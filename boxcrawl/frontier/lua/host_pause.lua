-- Hold back every worker from this host for `seconds` (429/503, Retry-After). ARGV: prefix, host, seconds
local p, host, seconds = ARGV[1], ARGV[2], tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local nextk = p .. 'host:' .. host .. ':next'
local until_ = math.max(tonumber(redis.call('GET', nextk) or '0'), now + seconds)
redis.call('SET', nextk, tostring(until_), 'PX', math.ceil((until_ - now) * 1000) + 1000)
return tostring(until_ - now)
