"""Where the zoo keeps what it made: run dirs, presets, outputs and their locks."""
