-- Enum columns accept only their type's stored names (ARCHITECTURE.md rule 9),
-- so a value no type has cannot be written even behind the application's back.
-- The lists are the domain's (a test compares them).
ALTER TABLE nonconformances ADD CONSTRAINT nonconformances_source_valid CHECK (source IN ('complaint', 'production', 'incoming_inspection', 'internal_audit', 'external_audit', 'supplier', 'field'));
ALTER TABLE nonconformances ADD CONSTRAINT nonconformances_severity_valid CHECK (severity IN ('low', 'medium', 'high', 'critical'));
ALTER TABLE nonconformances ADD CONSTRAINT nonconformances_state_valid CHECK (state IN ('reported', 'under_review', 'dispositioned', 'capa_opened', 'closed'));
ALTER TABLE nonconformances ADD CONSTRAINT nonconformances_disposition_valid CHECK (disposition IN ('use_as_is', 'rework', 'scrap', 'return_to_supplier', 'concession'));
ALTER TABLE capas ADD CONSTRAINT capas_kind_valid CHECK (kind IN ('corrective', 'preventive'));
ALTER TABLE capas ADD CONSTRAINT capas_source_valid CHECK (source IN ('nonconformance', 'complaint', 'audit_finding', 'trend', 'risk_review', 'other'));
ALTER TABLE capas ADD CONSTRAINT capas_priority_valid CHECK (priority IN ('low', 'medium', 'high', 'critical'));
ALTER TABLE capas ADD CONSTRAINT capas_rca_method_valid CHECK (rca_method IN ('five_whys', 'fishbone', 'other'));
ALTER TABLE capas ADD CONSTRAINT capas_effectiveness_result_valid CHECK (effectiveness_result IN ('effective', 'not_effective'));
ALTER TABLE capas ADD CONSTRAINT capas_state_valid CHECK (state IN ('open', 'investigation', 'action', 'verification', 'closed', 'cancelled'));
ALTER TABLE capa_items ADD CONSTRAINT capa_items_kind_valid CHECK (kind IN ('correction', 'corrective', 'preventive'));
ALTER TABLE capa_stays ADD CONSTRAINT capa_stays_state_valid CHECK (state IN ('open', 'investigation', 'action', 'verification', 'closed', 'cancelled'));
ALTER TABLE products ADD CONSTRAINT products_safety_class_valid CHECK (safety_class IN ('A', 'B', 'C'));
ALTER TABLE requirements ADD CONSTRAINT requirements_kind_valid CHECK (kind IN ('user_need', 'system', 'software', 'risk_control'));
ALTER TABLE requirements ADD CONSTRAINT requirements_safety_class_valid CHECK (safety_class IN ('A', 'B', 'C'));
ALTER TABLE requirements ADD CONSTRAINT requirements_status_valid CHECK (status IN ('active', 'retired'));
ALTER TABLE repositories ADD CONSTRAINT repositories_provider_valid CHECK (provider IN ('github', 'gitlab'));
ALTER TABLE test_results ADD CONSTRAINT test_results_outcome_valid CHECK (outcome IN ('passed', 'failed', 'skipped', 'error'));
