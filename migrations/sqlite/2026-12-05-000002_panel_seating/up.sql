-- Who scores and who decides on this assessment's panel (`{"seats": [...], "tie_breaker": ...}`),
-- from its guide version when it is registered. NULL (every assessment registered before): the
-- three v1 seats, the independent assessor breaking deadlocks.
ALTER TABLE assessments ADD COLUMN seating_json TEXT;
