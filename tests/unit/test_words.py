from godiag.words import agree, many


def test_one_is_singular_and_its_verb_agrees() -> None:
    assert f"{many(1, 'goroutine')} {agree(1, 'waits', 'wait')}" == "1 goroutine waits"
    assert f"{many(3, 'goroutine')} {agree(3, 'waits', 'wait')}" == "3 goroutines wait"


def test_the_spec_formats_the_number_and_a_signed_one_is_singular() -> None:
    assert many(1812, "goroutine", ",") == "1,812 goroutines"
    assert many(+1, "goroutine", "+d") == "+1 goroutine"
    assert many(-1, "goroutine", "+d") == "-1 goroutine"
    assert many(0, "group") == "0 groups"
    assert many(2.5, "goroutine", ".1f") == "2.5 goroutines"
