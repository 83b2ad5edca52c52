-- A worker joins the crawl. ARGV: prefix, owner, info (JSON), ttl_ms
-- -> -1 when a live process already beats under this id; else the number of URLs a dead earlier
--    process with the same id still held, now back at the front of the queue.
local p, owner, info, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if not redis.call('SET', p .. 'alive:' .. owner, info, 'NX', 'PX', ttl) then
  -- the same call sent again after a lost reply finds its own heartbeat (info names host and pid)
  if redis.call('GET', p .. 'alive:' .. owner) ~= info then return -1 end
end
redis.call('HSET', p .. 'workers', owner, info)
local owners = redis.call('HGETALL', p .. 'owners')
local n = 0
for i = 1, #owners, 2 do
  if owners[i + 1] == owner then
    redis.call('ZREM', p .. 'leases', owners[i])
    redis.call('HDEL', p .. 'owners', owners[i])
    redis.call('ZADD', p .. 'queue', -redis.call('INCR', p .. 'front'), owners[i])
    n = n + 1
  end
end
return n
