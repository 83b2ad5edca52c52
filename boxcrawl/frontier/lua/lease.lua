-- Hand out up to n ready URLs to owner. ARGV: prefix, owner, n, max_pages, ttl
-- -> flat list url, "depth attempts", ...
-- Expired leases (their worker died) and retries whose backoff is over go back to the queue first,
-- in the same atomic step, so no URL is ever held by two workers. Time is the Redis server's clock,
-- so workers on different machines agree on when a lease expires.
-- ARGV[6] names this call: a call redis-py sends again (the reply was lost when Redis died or the
-- connection dropped after the script ran) gets the same URLs back, not new ones that the worker
-- would never hear of and that would stay leased to it.
local p, owner = ARGV[1], ARGV[2]
local n, max_pages, ttl, request = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
local last = p .. 'last_lease:' .. owner
if redis.call('HGET', last, 'request') == request then
  return cjson.decode(redis.call('HGET', last, 'reply'))
end
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6

for _, url in ipairs(redis.call('ZRANGEBYSCORE', p .. 'leases', '-inf', now, 'LIMIT', 0, 1000)) do
  redis.call('ZREM', p .. 'leases', url)
  redis.call('HDEL', p .. 'owners', url)
  redis.call('ZADD', p .. 'queue', redis.call('INCR', p .. 'seq'), url)
  redis.call('HINCRBY', p .. 'stat', 'expired', 1)
end
for _, url in ipairs(redis.call('ZRANGEBYSCORE', p .. 'delayed', '-inf', now, 'LIMIT', 0, 1000)) do
  redis.call('ZREM', p .. 'delayed', url)
  redis.call('ZADD', p .. 'queue', redis.call('INCR', p .. 'seq'), url)
end

if max_pages > 0 then
  local started = redis.call('ZCARD', p .. 'leases') + tonumber(redis.call('HGET', p .. 'stat', 'done') or '0')
  n = math.min(n, max_pages - started)
end

local out = {}
if n > 0 then
  for _, url in ipairs(redis.call('ZRANGE', p .. 'queue', 0, n - 1)) do
    redis.call('ZREM', p .. 'queue', url)
    redis.call('ZADD', p .. 'leases', now + ttl, url)
    redis.call('HSET', p .. 'owners', url, owner)
    out[#out + 1] = url
    out[#out + 1] = redis.call('HGET', p .. 'info', url) or '0 0'
  end
end
if #out > 0 then
  redis.call('HSET', last, 'request', request, 'reply', cjson.encode(out))
  redis.call('EXPIRE', last, 86400)
end
return out
