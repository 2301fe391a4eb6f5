DROP TABLE risk_acceptances;
DROP TABLE risk_controls;
DROP TABLE risks;
DROP TABLE hazards;
DROP TABLE risk_plans;
