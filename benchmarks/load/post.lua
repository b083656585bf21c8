-- One single-record prediction per request.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"records":[{"square_footage":0.5,"rooms":0.5}]}'
