-- Hand out up to n ready URLs to owner. ARGV: prefix, owner, n, max_pages, ttl
-- -> flat list url, "depth attempts", ...
-- Expired leases (their worker died) and retries whose backoff is over go back to the queue first,
-- in the same atomic step, so no URL is ever held by two workers. Time is the Redis server's clock,
-- so workers on different machines agree on when a lease expires.
local p, owner = ARGV[1], ARGV[2]
local n, max_pages, ttl = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
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
  if n <= 0 then return {} end
end

local out = {}
for _, url in ipairs(redis.call('ZRANGE', p .. 'queue', 0, n - 1)) do
  redis.call('ZREM', p .. 'queue', url)
  redis.call('ZADD', p .. 'leases', now + ttl, url)
  redis.call('HSET', p .. 'owners', url, owner)
  out[#out + 1] = url
  out[#out + 1] = redis.call('HGET', p .. 'info', url) or '0 0'
end
return out
