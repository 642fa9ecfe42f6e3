"""LocalStack plugins that let rivet's AWS stack run on a machine without Docker or Java 21."""
