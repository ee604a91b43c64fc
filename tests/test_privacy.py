"""Masking of personal data in rendered reports (privacy.py, CONTRACT §7)."""

from __future__ import annotations

import pandas as pd
import pytest

from jiuzhu_sim import privacy


@pytest.mark.parametrize(("column", "kind"), [
    ("person_id", "id"), ("person_id_left", "id"), ("person_id_right", "id"),
    ("account_holder_id", "id"), ("guardian_person_id", "id"), ("staff_id_r", "id"),
    ("身份证号", "id"), ("监护人身份证号", "id"), ("公民身份号码", "id"),
    ("name", "name"), ("name_left", "name"), ("name_right", "name"), ("staff_name", "name"),
    ("guardian_name", "name"), ("姓名", "name"), ("工作人员姓名", "name"),
    ("region_name", None), ("household_id", None), ("finding_id", None), ("payment_id", None),
    ("left_key", None), ("id_edit_distance", None), ("detail", None), ("amount", None)])
def test_column_kind_follows_the_column_name(column, kind):
    assert privacy.column_kind(column) == kind


def test_ids_keep_six_and_four_characters():
    # 18 characters: 6 kept + 8 stars + 4 kept; 11: 6 + 1 + 4; 10 or fewer: all stars
    masked = privacy.mask_ids(["350581199001011234", "35058112345", "3505811234", None, ""])
    assert masked.tolist() == ["350581********1234", "350581*2345", "**********", "", ""]
    assert privacy.mask_id("11010519491231002X") == "110105********002X"


def test_names_keep_their_first_character():
    assert privacy.mask_names(["张三丰", "黎玲", "王", None]).tolist() == ["张**", "黎*", "*", ""]
    assert privacy.mask_name("欧阳修") == "欧**"


def test_key_fields_mask_id_and_name_fields_only():
    text = ["person_id=350581199001011234; death_date=2024-02-03",
            "staff_id=350581198005171231; staff_name=余辉红; relation=配偶", ""]
    assert privacy.mask_key_fields(text).tolist() == [
        "person_id=350581********1234; death_date=2024-02-03",
        "staff_id=350581********1231; staff_name=余**; relation=配偶", ""]


def test_mask_frame_masks_joined_and_linked_columns():
    frame = pd.DataFrame({"person_id_left": ["350581199001011234"], "name_right": ["李四"],
                          "region_code": ["350581"], "amount": [12.5]})
    out = privacy.mask_frame(frame)
    assert out.iloc[0].tolist() == ["350581********1234", "李*", "350581", 12.5]
    assert frame["name_right"].iloc[0] == "李四"  # a copy: the input is untouched
