DROP TABLE test_results;
DROP TABLE test_runs;
DROP TABLE test_cases;
DROP TABLE api_tokens;
