# cell: aipp_rgb_config_answer
# fails: aipp_rgb_config_visible, aipp_rgb_config_hidden
# frame[16:240, 32:256] read as (x, y): the crop starts 32 rows down and 16 columns in.
AIPP_RGB = """
aipp_op {
    aipp_mode : static
    input_format : RGB888_U8
    src_image_size_w : 288
    src_image_size_h : 256
    crop : true
    load_start_pos_h : 32
    load_start_pos_w : 16
    crop_size_w : 224
    crop_size_h : 224
    min_chn_0 : 123.675
    min_chn_1 : 116.28
    min_chn_2 : 103.53
    var_reci_chn_0 : 0.0171247538
    var_reci_chn_1 : 0.0175070028
    var_reci_chn_2 : 0.0174291939
}
"""
