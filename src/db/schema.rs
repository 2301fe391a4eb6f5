//! Diesel table definitions. Kept by hand, in step with migrations/ (both
//! backends use the same names and the column types MultiConnection supports).

diesel::table! {
    app_meta (name) {
        name -> Text,
        value -> Text,
    }
}

diesel::table! {
    nonconformances (id) {
        id -> BigInt,
        title -> Text,
        source -> Text,
        product_id -> Nullable<BigInt>,
        lot_serial -> Text,
        description -> Text,
        detected_on -> Nullable<Text>,
        reported_by -> BigInt,
        severity -> Nullable<Text>,
        state -> Text,
        disposition -> Nullable<Text>,
        justification -> Text,
        closure_note -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    nc_state_restorations (nc_id) {
        nc_id -> BigInt,
        from_state -> Text,
        to_state -> Text,
        version -> BigInt,
        restored_at -> Timestamp,
        audit_seq -> Nullable<BigInt>,
    }
}

diesel::table! {
    products (id) {
        id -> BigInt,
        name -> Text,
        key_prefix -> Text,
        safety_class -> Text,
        description -> Text,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        full_name -> Text,
        email -> Text,
        roles -> Text,
        active -> Bool,
        password_hash -> Text,
        must_change_password -> Bool,
        failed_logins -> BigInt,
        failed_window_start -> Nullable<Timestamp>,
        locked_until -> Nullable<Timestamp>,
        last_login_at -> Nullable<Timestamp>,
        password_changed_at -> Timestamp,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    sessions (id_hash) {
        id_hash -> Text,
        user_id -> BigInt,
        csrf_token -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
        ended_reason -> Nullable<Text>,
        ip -> Text,
        user_agent -> Text,
        flash -> Nullable<Text>,
        first_signed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    capas (id) {
        id -> BigInt,
        title -> Text,
        kind -> Text,
        source -> Text,
        source_ref -> Text,
        product_id -> Nullable<BigInt>,
        problem -> Text,
        priority -> Nullable<Text>,
        owner_id -> Nullable<BigInt>,
        due_on -> Nullable<Text>,
        containment -> Text,
        rca_method -> Nullable<Text>,
        whys -> Text,
        causes -> Text,
        root_cause -> Text,
        action_required -> Nullable<Bool>,
        action_rationale -> Text,
        no_adverse_effect -> Text,
        effectiveness_criteria -> Text,
        effectiveness_due -> Nullable<Text>,
        effectiveness_result -> Nullable<Text>,
        effectiveness_evidence -> Text,
        cancel_justification -> Text,
        state -> Text,
        created_by -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    file_blobs (sha256) {
        sha256 -> Text,
        size -> BigInt,
        stored_in -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    file_chunks (sha256, n) {
        sha256 -> Text,
        n -> BigInt,
        data -> Binary,
    }
}

diesel::table! {
    attachments (id) {
        id -> BigInt,
        record_type -> Text,
        record_id -> Text,
        part -> Text,
        name -> Text,
        sha256 -> Text,
        size -> BigInt,
        added_by -> BigInt,
        added_at -> Timestamp,
        removed_by -> Nullable<BigInt>,
        removed_at -> Nullable<Timestamp>,
        removed_reason -> Text,
    }
}

diesel::table! {
    capa_items (id) {
        id -> BigInt,
        capa_id -> BigInt,
        text -> Text,
        kind -> Text,
        owner_id -> BigInt,
        due_on -> Text,
        done_on -> Nullable<Text>,
        evidence -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    capa_stays (id) {
        id -> BigInt,
        capa_id -> BigInt,
        state -> Text,
        entered_at -> Timestamp,
        left_at -> Timestamp,
        seconds -> BigInt,
    }
}

diesel::table! {
    links (id) {
        id -> BigInt,
        from_type -> Text,
        from_id -> Text,
        relation -> Text,
        to_type -> Text,
        to_id -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        removed_by -> Nullable<BigInt>,
        removed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    signing_keys (id) {
        id -> BigInt,
        key_id -> Text,
        user_id -> BigInt,
        public_key -> Binary,
        wrapped_key -> Nullable<Binary>,
        kdf_salt -> Nullable<Binary>,
        valid_from -> Timestamp,
        valid_until -> Nullable<Timestamp>,
        retired_reason -> Nullable<Text>,
    }
}

diesel::table! {
    signatures (id) {
        id -> BigInt,
        record_type -> Text,
        record_id -> Text,
        record_key -> Text,
        transition -> Nullable<Text>,
        meaning -> Text,
        signer_id -> BigInt,
        key_id -> Text,
        message -> Binary,
        signature -> Binary,
        signed_at -> Timestamp,
    }
}

diesel::table! {
    audit_entries (seq) {
        seq -> BigInt,
        leaf -> Binary,
        leaf_hash -> Binary,
        at -> Timestamp,
        actor_id -> Text,
        action -> Text,
        entity_type -> Nullable<Text>,
        entity_id -> Nullable<Text>,
        entity_key -> Nullable<Text>,
    }
}

diesel::table! {
    audit_head (id) {
        id -> Integer,
        size -> BigInt,
    }
}

diesel::table! {
    data_stamp (id) {
        id -> Integer,
        changes -> BigInt,
    }
}

diesel::table! {
    requirements (id) {
        id -> BigInt,
        product_id -> BigInt,
        key -> Text,
        title -> Text,
        body -> Text,
        kind -> Text,
        safety_class -> Text,
        status -> Text,
        text_version -> BigInt,
        text_changed_at -> Timestamp,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    requirement_texts (requirement_id, text_version) {
        requirement_id -> BigInt,
        text_version -> BigInt,
        title -> Text,
        body -> Text,
        changed_by -> Nullable<BigInt>,
        changed_at -> Timestamp,
    }
}

diesel::table! {
    requirement_imports (id) {
        id -> BigInt,
        product_id -> BigInt,
        file_name -> Text,
        sha256 -> Text,
        content -> Text,
        uploaded_by -> BigInt,
        uploaded_at -> Timestamp,
        applied_at -> Nullable<Timestamp>,
        version -> BigInt,
    }
}

diesel::table! {
    repositories (id) {
        id -> BigInt,
        provider -> Text,
        name -> Text,
        product_id -> BigInt,
        secret_sealed -> Binary,
        active -> Bool,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    commits (id) {
        id -> BigInt,
        repository_id -> BigInt,
        sha -> Text,
        author_name -> Text,
        author_email -> Text,
        committed_at -> Timestamp,
        message -> Text,
        url -> Text,
        received_at -> Timestamp,
    }
}

diesel::table! {
    commit_refs (id) {
        id -> BigInt,
        commit_id -> BigInt,
        relation -> Text,
        key -> Text,
        target_type -> Nullable<Text>,
        target_id -> Nullable<Text>,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> BigInt,
        repository_id -> BigInt,
        delivery_id -> Text,
        event -> Text,
        received_at -> Timestamp,
        commits -> BigInt,
        outcome -> Text,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        name -> Text,
        scopes -> Text,
        token_hash -> Text,
        prefix -> Text,
        created_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
        version -> BigInt,
    }
}

diesel::table! {
    test_cases (id) {
        id -> BigInt,
        product_id -> BigInt,
        key -> Text,
        title -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    test_runs (id) {
        id -> BigInt,
        product_id -> BigInt,
        repository_id -> Nullable<BigInt>,
        commit_sha -> Text,
        branch -> Text,
        ci_url -> Text,
        file_sha256 -> Text,
        uploaded_by -> BigInt,
        received_at -> Timestamp,
        tests -> BigInt,
        passed -> BigInt,
        failed -> BigInt,
        skipped -> BigInt,
        errors -> BigInt,
    }
}

diesel::table! {
    test_results (id) {
        id -> BigInt,
        run_id -> BigInt,
        test_case_id -> BigInt,
        outcome -> Text,
        duration_ms -> BigInt,
        message -> Text,
    }
}

diesel::table! {
    exports (id) {
        id -> BigInt,
        product_id -> BigInt,
        format -> Text,
        file_name -> Text,
        sha256 -> Text,
        bytes -> BigInt,
        content -> Binary,
        manifest -> Text,
        audit_seq -> BigInt,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    releases (id) {
        id -> BigInt,
        repository_id -> BigInt,
        tag -> Text,
        sha -> Text,
        export_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    documents (id) {
        id -> BigInt,
        title -> Text,
        doc_type -> Text,
        owner_id -> BigInt,
        product_id -> Nullable<BigInt>,
        review_months -> BigInt,
        next_review_on -> Nullable<Text>,
        created_by -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    document_versions (id) {
        id -> BigInt,
        document_id -> BigInt,
        number -> BigInt,
        title -> Text,
        body -> Text,
        change_reason -> Text,
        change_summary -> Text,
        author_id -> BigInt,
        reviewers -> Text,
        reviewed -> Text,
        round -> BigInt,
        approver_id -> Nullable<BigInt>,
        effective_on -> Nullable<Text>,
        training_required -> Bool,
        comment -> Text,
        reason -> Text,
        effective_from -> Nullable<Text>,
        reviewed_on -> Nullable<Text>,
        state -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    document_exports (id) {
        id -> BigInt,
        format -> Text,
        file_name -> Text,
        filters -> Text,
        rows -> BigInt,
        sha256 -> Text,
        bytes -> BigInt,
        content -> Binary,
        manifest -> Text,
        audit_seq -> BigInt,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        subject -> Text,
    }
}

diesel::table! {
    document_words (word, document_id) {
        word -> Text,
        document_id -> BigInt,
    }
}

diesel::table! {
    document_rounds (version_id, round) {
        version_id -> BigInt,
        round -> BigInt,
        content -> Text,
        content_sha256 -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    training_scope (id) {
        id -> BigInt,
        document_id -> BigInt,
        role -> Nullable<Text>,
        user_id -> Nullable<BigInt>,
        added_at -> Timestamp,
        removed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    training_due (document_id) {
        document_id -> BigInt,
        due_days -> Nullable<BigInt>,
    }
}

diesel::table! {
    training_assignments (id) {
        id -> BigInt,
        user_id -> BigInt,
        document_id -> BigInt,
        version_id -> BigInt,
        version_number -> BigInt,
        content_sha256 -> Text,
        state -> Text,
        due_on -> Text,
        because -> Text,
        trained_before -> Nullable<BigInt>,
        carried_from -> Nullable<BigInt>,
        opened_at -> Nullable<Timestamp>,
        quiz_passed_at -> Nullable<Timestamp>,
        quiz_score -> Text,
        acknowledged_at -> Nullable<Timestamp>,
        overdue_noted -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    training_quizzes (version_id) {
        version_id -> BigInt,
        pass_mark -> BigInt,
        set_by -> BigInt,
        set_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    training_questions (id) {
        id -> BigInt,
        version_id -> BigInt,
        n -> BigInt,
        question -> Text,
        choices -> Text,
        correct -> BigInt,
        retired -> Bool,
    }
}

diesel::table! {
    training_attempts (id) {
        id -> BigInt,
        assignment_id -> BigInt,
        answers -> Text,
        correct -> BigInt,
        questions -> BigInt,
        passed -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    settings (name) {
        name -> Text,
        value -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    risk_plans (id) {
        id -> BigInt,
        product_id -> BigInt,
        number -> BigInt,
        criteria -> Text,
        state -> Text,
        author -> BigInt,
        approved_at -> Nullable<Timestamp>,
        reevaluation -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    hazards (id) {
        id -> BigInt,
        product_id -> BigInt,
        category -> Text,
        name -> Text,
        description -> Text,
        created_by -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    risks (id) {
        id -> BigInt,
        product_id -> BigInt,
        hazard_id -> Nullable<BigInt>,
        sequence -> Text,
        situation -> Text,
        harm -> Text,
        initial_severity -> Nullable<BigInt>,
        initial_probability -> Nullable<BigInt>,
        initial_p1 -> Nullable<BigInt>,
        initial_p2 -> Nullable<BigInt>,
        initial_level -> Nullable<BigInt>,
        initial_verdict -> Nullable<Text>,
        residual_severity -> Nullable<BigInt>,
        residual_probability -> Nullable<BigInt>,
        residual_p1 -> Nullable<BigInt>,
        residual_p2 -> Nullable<BigInt>,
        residual_level -> Nullable<BigInt>,
        residual_verdict -> Nullable<Text>,
        residual_reason -> Text,
        benefit_risk -> Text,
        introduced_by -> Nullable<BigInt>,
        analyst -> Nullable<BigInt>,
        reason -> Text,
        needs_review -> Text,
        needs_review_since -> Nullable<Timestamp>,
        state -> Text,
        created_by -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    risk_controls (id) {
        id -> BigInt,
        risk_id -> BigInt,
        option -> Text,
        description -> Text,
        requirement_id -> Nullable<BigInt>,
        effectiveness -> Text,
        withdrawn_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    risk_acceptances (id) {
        id -> BigInt,
        risk_id -> BigInt,
        content -> Text,
        sha256 -> Text,
        accepted_at -> Timestamp,
    }
}

diesel::table! {
    risk_reports (id) {
        id -> BigInt,
        product_id -> BigInt,
        kind -> Text,
        plan_id -> Nullable<BigInt>,
        conclusion -> Text,
        checks -> Text,
        state -> Text,
        author -> BigInt,
        approved_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    risk_reviews (id) {
        id -> BigInt,
        product_id -> BigInt,
        record_type -> Text,
        record_id -> BigInt,
        asked_on -> Text,
        asked_at -> Timestamp,
        decision -> Nullable<Text>,
        risk_id -> Nullable<BigInt>,
        note -> Text,
        decided_by -> Nullable<BigInt>,
        decided_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    notifications (id) {
        id -> BigInt,
        user_id -> BigInt,
        event_id -> BigInt,
        kind -> Text,
        record_type -> Text,
        record_id -> Text,
        record_key -> Text,
        words -> Text,
        href -> Text,
        created_at -> Timestamp,
        read_at -> Nullable<Timestamp>,
        held -> Bool,
        digested_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    mail_outbox (id) {
        id -> BigInt,
        idem_key -> Text,
        user_id -> Nullable<BigInt>,
        to_address -> Text,
        subject -> Text,
        body_text -> Text,
        body_html -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    reminders (id) {
        id -> BigInt,
        idem_key -> Text,
        duty -> Text,
        stage -> Text,
        record_type -> Text,
        record_id -> Text,
        user_id -> Nullable<BigInt>,
        due_on -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    mail_preferences (user_id) {
        user_id -> BigInt,
        digest -> Text,
        categories -> Text,
        last_digest_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    signature_requests (id) {
        id -> BigInt,
        record_type -> Text,
        record_id -> Text,
        record_key -> Text,
        action -> Text,
        label -> Text,
        meaning -> Text,
        state -> Text,
        asked_of -> BigInt,
        asked_by -> BigInt,
        note -> Text,
        created_at -> Timestamp,
        ended -> Nullable<Text>,
        ended_at -> Nullable<Timestamp>,
        ended_by -> Nullable<BigInt>,
    }
}

diesel::joinable!(document_versions -> documents (document_id));
diesel::joinable!(risks -> hazards (hazard_id));
diesel::joinable!(risk_controls -> risks (risk_id));
diesel::joinable!(training_assignments -> users (user_id));
diesel::joinable!(training_assignments -> documents (document_id));
diesel::joinable!(sessions -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(
    app_meta,
    risk_plans,
    hazards,
    risks,
    risk_controls,
    risk_acceptances,
    risk_reports,
    risk_reviews,
    mail_outbox,
    mail_preferences,
    signature_requests,
    reminders,
    notifications,
    documents,
    document_exports,
    document_versions,
    document_words,
    document_rounds,
    training_scope,
    training_due,
    training_assignments,
    training_quizzes,
    training_questions,
    training_attempts,
    settings,
    nonconformances,
    nc_state_restorations,
    products,
    users,
    sessions,
    signing_keys,
    signatures,
    capas,
    capa_items,
    capa_stays,
    attachments,
    file_blobs,
    file_chunks,
    links,
    requirements,
    requirement_texts,
    requirement_imports,
    repositories,
    commits,
    commit_refs,
    webhook_deliveries,
    api_tokens,
    test_cases,
    test_runs,
    test_results,
    exports,
    releases,
    audit_entries,
    audit_head,
    audit_nodes,
    audit_tree,
    audit_checkpoints
);

diesel::table! {
    audit_nodes (level, idx) {
        level -> Integer,
        idx -> BigInt,
        hash -> Binary,
    }
}

diesel::table! {
    audit_tree (id) {
        id -> Integer,
        size -> BigInt,
        root -> Binary,
        frontier -> Binary,
    }
}

diesel::table! {
    audit_checkpoints (size) {
        size -> BigInt,
        root -> Binary,
        note -> Text,
        signed_at -> Timestamp,
    }
}

diesel::table! {
    events (id) {
        id -> BigInt,
        kind -> Text,
        record_type -> Text,
        record_id -> Text,
        record_key -> Text,
        actor_id -> Text,
        data -> Text,
        created_at -> Timestamp,
        processed_at -> Nullable<Timestamp>,
    }
}
