-- One prediction request of 1,000 records: the replica's CPU, not the proxy in front of it, sets the pace.
local records = {}
for i = 1, 1000 do
  records[i] = string.format('{"square_footage":%.4f,"rooms":%.4f}', (i % 97) / 97, (i % 89) / 89)
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"records":[' .. table.concat(records, ",") .. ']}'
