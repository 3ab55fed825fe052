wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"channel":"letter","anonymous":true,"receiving_office_code":"339922","matter_location_code":"339922101201","content":"村道年久失修，雨天无法通行，请求尽快维修。"}'
token = os.getenv("XF_WRK_TOKEN") or ""
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/json", ["X-Client-Id"] = "wrk-" .. (counter % 64), ["Authorization"] = "Bearer " .. token}, wrk.body)
end
