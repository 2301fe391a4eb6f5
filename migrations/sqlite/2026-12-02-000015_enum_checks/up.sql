-- Enum columns accept only their type's stored names (ARCHITECTURE.md rule 9),
-- so a value no type has cannot be written even behind the application's back.
-- The lists are the domain's (a test compares them).
-- SQLite cannot add a CHECK to an existing table: triggers refuse the same values.
CREATE TRIGGER nonconformances_source_valid_insert BEFORE INSERT ON nonconformances WHEN NEW.source NOT IN ('complaint', 'production', 'incoming_inspection', 'internal_audit', 'external_audit', 'supplier', 'field')
BEGIN SELECT RAISE(ABORT, 'nonconformances.source: not one of its allowed values'); END;
CREATE TRIGGER nonconformances_source_valid_update BEFORE UPDATE OF source ON nonconformances WHEN NEW.source NOT IN ('complaint', 'production', 'incoming_inspection', 'internal_audit', 'external_audit', 'supplier', 'field')
BEGIN SELECT RAISE(ABORT, 'nonconformances.source: not one of its allowed values'); END;
CREATE TRIGGER nonconformances_severity_valid_insert BEFORE INSERT ON nonconformances WHEN NEW.severity IS NOT NULL AND NEW.severity NOT IN ('low', 'medium', 'high', 'critical')
BEGIN SELECT RAISE(ABORT, 'nonconformances.severity: not one of its allowed values'); END;
CREATE TRIGGER nonconformances_severity_valid_update BEFORE UPDATE OF severity ON nonconformances WHEN NEW.severity IS NOT NULL AND NEW.severity NOT IN ('low', 'medium', 'high', 'critical')
BEGIN SELECT RAISE(ABORT, 'nonconformances.severity: not one of its allowed values'); END;
CREATE TRIGGER nonconformances_state_valid_insert BEFORE INSERT ON nonconformances WHEN NEW.state NOT IN ('reported', 'under_review', 'dispositioned', 'capa_opened', 'closed')
BEGIN SELECT RAISE(ABORT, 'nonconformances.state: not one of its allowed values'); END;
CREATE TRIGGER nonconformances_state_valid_update BEFORE UPDATE OF state ON nonconformances WHEN NEW.state NOT IN ('reported', 'under_review', 'dispositioned', 'capa_opened', 'closed')
BEGIN SELECT RAISE(ABORT, 'nonconformances.state: not one of its allowed values'); END;
CREATE TRIGGER nonconformances_disposition_valid_insert BEFORE INSERT ON nonconformances WHEN NEW.disposition IS NOT NULL AND NEW.disposition NOT IN ('use_as_is', 'rework', 'scrap', 'return_to_supplier', 'concession')
BEGIN SELECT RAISE(ABORT, 'nonconformances.disposition: not one of its allowed values'); END;
CREATE TRIGGER nonconformances_disposition_valid_update BEFORE UPDATE OF disposition ON nonconformances WHEN NEW.disposition IS NOT NULL AND NEW.disposition NOT IN ('use_as_is', 'rework', 'scrap', 'return_to_supplier', 'concession')
BEGIN SELECT RAISE(ABORT, 'nonconformances.disposition: not one of its allowed values'); END;
CREATE TRIGGER capas_kind_valid_insert BEFORE INSERT ON capas WHEN NEW.kind NOT IN ('corrective', 'preventive')
BEGIN SELECT RAISE(ABORT, 'capas.kind: not one of its allowed values'); END;
CREATE TRIGGER capas_kind_valid_update BEFORE UPDATE OF kind ON capas WHEN NEW.kind NOT IN ('corrective', 'preventive')
BEGIN SELECT RAISE(ABORT, 'capas.kind: not one of its allowed values'); END;
CREATE TRIGGER capas_source_valid_insert BEFORE INSERT ON capas WHEN NEW.source NOT IN ('nonconformance', 'complaint', 'audit_finding', 'trend', 'risk_review', 'other')
BEGIN SELECT RAISE(ABORT, 'capas.source: not one of its allowed values'); END;
CREATE TRIGGER capas_source_valid_update BEFORE UPDATE OF source ON capas WHEN NEW.source NOT IN ('nonconformance', 'complaint', 'audit_finding', 'trend', 'risk_review', 'other')
BEGIN SELECT RAISE(ABORT, 'capas.source: not one of its allowed values'); END;
CREATE TRIGGER capas_priority_valid_insert BEFORE INSERT ON capas WHEN NEW.priority IS NOT NULL AND NEW.priority NOT IN ('low', 'medium', 'high', 'critical')
BEGIN SELECT RAISE(ABORT, 'capas.priority: not one of its allowed values'); END;
CREATE TRIGGER capas_priority_valid_update BEFORE UPDATE OF priority ON capas WHEN NEW.priority IS NOT NULL AND NEW.priority NOT IN ('low', 'medium', 'high', 'critical')
BEGIN SELECT RAISE(ABORT, 'capas.priority: not one of its allowed values'); END;
CREATE TRIGGER capas_rca_method_valid_insert BEFORE INSERT ON capas WHEN NEW.rca_method IS NOT NULL AND NEW.rca_method NOT IN ('five_whys', 'fishbone', 'other')
BEGIN SELECT RAISE(ABORT, 'capas.rca_method: not one of its allowed values'); END;
CREATE TRIGGER capas_rca_method_valid_update BEFORE UPDATE OF rca_method ON capas WHEN NEW.rca_method IS NOT NULL AND NEW.rca_method NOT IN ('five_whys', 'fishbone', 'other')
BEGIN SELECT RAISE(ABORT, 'capas.rca_method: not one of its allowed values'); END;
CREATE TRIGGER capas_effectiveness_result_valid_insert BEFORE INSERT ON capas WHEN NEW.effectiveness_result IS NOT NULL AND NEW.effectiveness_result NOT IN ('effective', 'not_effective')
BEGIN SELECT RAISE(ABORT, 'capas.effectiveness_result: not one of its allowed values'); END;
CREATE TRIGGER capas_effectiveness_result_valid_update BEFORE UPDATE OF effectiveness_result ON capas WHEN NEW.effectiveness_result IS NOT NULL AND NEW.effectiveness_result NOT IN ('effective', 'not_effective')
BEGIN SELECT RAISE(ABORT, 'capas.effectiveness_result: not one of its allowed values'); END;
CREATE TRIGGER capas_state_valid_insert BEFORE INSERT ON capas WHEN NEW.state NOT IN ('open', 'investigation', 'action', 'verification', 'closed', 'cancelled')
BEGIN SELECT RAISE(ABORT, 'capas.state: not one of its allowed values'); END;
CREATE TRIGGER capas_state_valid_update BEFORE UPDATE OF state ON capas WHEN NEW.state NOT IN ('open', 'investigation', 'action', 'verification', 'closed', 'cancelled')
BEGIN SELECT RAISE(ABORT, 'capas.state: not one of its allowed values'); END;
CREATE TRIGGER capa_items_kind_valid_insert BEFORE INSERT ON capa_items WHEN NEW.kind NOT IN ('correction', 'corrective', 'preventive')
BEGIN SELECT RAISE(ABORT, 'capa_items.kind: not one of its allowed values'); END;
CREATE TRIGGER capa_items_kind_valid_update BEFORE UPDATE OF kind ON capa_items WHEN NEW.kind NOT IN ('correction', 'corrective', 'preventive')
BEGIN SELECT RAISE(ABORT, 'capa_items.kind: not one of its allowed values'); END;
CREATE TRIGGER capa_stays_state_valid_insert BEFORE INSERT ON capa_stays WHEN NEW.state NOT IN ('open', 'investigation', 'action', 'verification', 'closed', 'cancelled')
BEGIN SELECT RAISE(ABORT, 'capa_stays.state: not one of its allowed values'); END;
CREATE TRIGGER capa_stays_state_valid_update BEFORE UPDATE OF state ON capa_stays WHEN NEW.state NOT IN ('open', 'investigation', 'action', 'verification', 'closed', 'cancelled')
BEGIN SELECT RAISE(ABORT, 'capa_stays.state: not one of its allowed values'); END;
CREATE TRIGGER products_safety_class_valid_insert BEFORE INSERT ON products WHEN NEW.safety_class NOT IN ('A', 'B', 'C')
BEGIN SELECT RAISE(ABORT, 'products.safety_class: not one of its allowed values'); END;
CREATE TRIGGER products_safety_class_valid_update BEFORE UPDATE OF safety_class ON products WHEN NEW.safety_class NOT IN ('A', 'B', 'C')
BEGIN SELECT RAISE(ABORT, 'products.safety_class: not one of its allowed values'); END;
CREATE TRIGGER requirements_kind_valid_insert BEFORE INSERT ON requirements WHEN NEW.kind NOT IN ('user_need', 'system', 'software', 'risk_control')
BEGIN SELECT RAISE(ABORT, 'requirements.kind: not one of its allowed values'); END;
CREATE TRIGGER requirements_kind_valid_update BEFORE UPDATE OF kind ON requirements WHEN NEW.kind NOT IN ('user_need', 'system', 'software', 'risk_control')
BEGIN SELECT RAISE(ABORT, 'requirements.kind: not one of its allowed values'); END;
CREATE TRIGGER requirements_safety_class_valid_insert BEFORE INSERT ON requirements WHEN NEW.safety_class NOT IN ('A', 'B', 'C')
BEGIN SELECT RAISE(ABORT, 'requirements.safety_class: not one of its allowed values'); END;
CREATE TRIGGER requirements_safety_class_valid_update BEFORE UPDATE OF safety_class ON requirements WHEN NEW.safety_class NOT IN ('A', 'B', 'C')
BEGIN SELECT RAISE(ABORT, 'requirements.safety_class: not one of its allowed values'); END;
CREATE TRIGGER requirements_status_valid_insert BEFORE INSERT ON requirements WHEN NEW.status NOT IN ('active', 'retired')
BEGIN SELECT RAISE(ABORT, 'requirements.status: not one of its allowed values'); END;
CREATE TRIGGER requirements_status_valid_update BEFORE UPDATE OF status ON requirements WHEN NEW.status NOT IN ('active', 'retired')
BEGIN SELECT RAISE(ABORT, 'requirements.status: not one of its allowed values'); END;
CREATE TRIGGER repositories_provider_valid_insert BEFORE INSERT ON repositories WHEN NEW.provider NOT IN ('github', 'gitlab')
BEGIN SELECT RAISE(ABORT, 'repositories.provider: not one of its allowed values'); END;
CREATE TRIGGER repositories_provider_valid_update BEFORE UPDATE OF provider ON repositories WHEN NEW.provider NOT IN ('github', 'gitlab')
BEGIN SELECT RAISE(ABORT, 'repositories.provider: not one of its allowed values'); END;
CREATE TRIGGER test_results_outcome_valid_insert BEFORE INSERT ON test_results WHEN NEW.outcome NOT IN ('passed', 'failed', 'skipped', 'error')
BEGIN SELECT RAISE(ABORT, 'test_results.outcome: not one of its allowed values'); END;
CREATE TRIGGER test_results_outcome_valid_update BEFORE UPDATE OF outcome ON test_results WHEN NEW.outcome NOT IN ('passed', 'failed', 'skipped', 'error')
BEGIN SELECT RAISE(ABORT, 'test_results.outcome: not one of its allowed values'); END;
