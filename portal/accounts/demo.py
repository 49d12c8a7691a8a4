def describe_demo_logins() -> str:
    return ""
