# cell: aipp_bgr_config_answer
# fails: aipp_bgr_config_visible, aipp_bgr_config_hidden
# Channels swapped to BGR, but the means are still listed R, G, B: blue gets red's mean.
AIPP_BGR = """
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
    rbuv_swap_switch : true
    min_chn_0 : 123.68
    min_chn_1 : 116.78
    min_chn_2 : 103.94
    var_reci_chn_0 : 0.017
    var_reci_chn_1 : 0.017
    var_reci_chn_2 : 0.017
}
"""
