-- Push the deadline of owner's leases on these URLs. ARGV: prefix, owner, ttl, url... -> how many
local p, owner, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local n = 0
for i = 4, #ARGV do
  if redis.call('HGET', p .. 'owners', ARGV[i]) == owner then
    redis.call('ZADD', p .. 'leases', 'XX', now + ttl, ARGV[i])
    n = n + 1
  end
end
return n
