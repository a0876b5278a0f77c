-- wrk script: POST one ~180-byte clickstream event as JSON.
wrk.method = "POST"
wrk.body = '{"event_id":"00000001","event_time":"2024-03-01T04:24:05.123Z","element_clicked":"button-3","page":"/products/42","user_id":"user-000042","session":"s-0000000042","ua":"Mozilla/5.0"}'
wrk.headers["Content-Type"] = "application/json"
