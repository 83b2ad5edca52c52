-- Graceful stop: every URL owner holds goes back to the queue and owner leaves the roster of live
-- workers. ARGV: prefix, owner -> how many URLs
local p, owner = ARGV[1], ARGV[2]
local owners = redis.call('HGETALL', p .. 'owners')
local n = 0
for i = 1, #owners, 2 do
  if owners[i + 1] == owner then
    redis.call('ZREM', p .. 'leases', owners[i])
    redis.call('HDEL', p .. 'owners', owners[i])
    redis.call('ZADD', p .. 'queue', redis.call('INCR', p .. 'seq'), owners[i])
    n = n + 1
  end
end
redis.call('DEL', p .. 'alive:' .. owner)
redis.call('HDEL', p .. 'workers', owner)
redis.call('DEL', p .. 'last_lease:' .. owner)
return n
