-- A worker joins the crawl. ARGV: prefix, owner, info (JSON), ttl_ms
-- -> 0 when a live process already beats under this id, else 1.
local p, owner, info, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if not redis.call('SET', p .. 'alive:' .. owner, info, 'NX', 'PX', ttl) then
  -- the same call sent again after a lost reply finds its own heartbeat (info names host and pid)
  if redis.call('GET', p .. 'alive:' .. owner) ~= info then return 0 end
end
redis.call('HSET', p .. 'workers', owner, info)
return 1
