-- Every URL owner holds goes back to the queue. ARGV: prefix, owner, where, leave -> how many
-- where 'back' for a graceful stop; 'front' for what a killed run of owner left: the oldest work,
-- which holds the crawl's end back. leave '1': owner also leaves the roster of live workers.
local p, owner, where, leave = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local owners = redis.call('HGETALL', p .. 'owners')
local n = 0
for i = 1, #owners, 2 do
  if owners[i + 1] == owner then
    local seq = where == 'front' and -redis.call('INCR', p .. 'front') or redis.call('INCR', p .. 'seq')
    redis.call('ZREM', p .. 'leases', owners[i])
    redis.call('HDEL', p .. 'owners', owners[i])
    redis.call('ZADD', p .. 'queue', seq, owners[i])
    n = n + 1
  end
end
if leave == '1' then
  redis.call('DEL', p .. 'alive:' .. owner)
  redis.call('HDEL', p .. 'workers', owner)
  redis.call('DEL', p .. 'last_lease:' .. owner)
end
return n
