# cell: aipp_rgb_config_answer
# fails: aipp_rgb_config_visible, aipp_rgb_config_hidden
# Means right, but var_reci is the standard deviation (on 0..255) instead of its reciprocal.
AIPP_RGB = """
aipp_op {
    aipp_mode : static
    input_format : RGB888_U8
    src_image_size_w : 288
    src_image_size_h : 256
    crop : true
    load_start_pos_h : 16
    load_start_pos_w : 32
    crop_size_w : 224
    crop_size_h : 224
    min_chn_0 : 123.675
    min_chn_1 : 116.28
    min_chn_2 : 103.53
    var_reci_chn_0 : 58.395
    var_reci_chn_1 : 57.12
    var_reci_chn_2 : 57.375
}
"""
