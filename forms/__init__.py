"""WTForms forms. Record types get their forms built from their declarations (app.records.forms)."""
