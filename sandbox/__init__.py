"""An offline Discord: API emulator, DCE stand-in, synthetic worlds and data packages."""
