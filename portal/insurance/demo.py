def ensure_demo_data():
    return None
