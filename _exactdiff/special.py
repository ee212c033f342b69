"""Precise pieces of special-function derivatives shared by both engines.

Written with numpy arithmetic only, so the same code runs on floats, arrays,
Duals, HyperDuals and Variables (their operators dispatch back to the engine)
and stays differentiable to any order.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from _exactdiff._common import fpe_ignored as _fpe_ignored

from ._common import is_traced as is_traced_value
from ._common import value
from .arrays import engine_value, hand_off, is_foreign_array, may_hold, plain_array


def _plain64(v: Any) -> Any:
    """Plain data as float64 values (dask stays lazy)."""
    return plain_array(v, np.float64)

# erfcx' = 2x erfcx - 2/sqrt(pi) and erfcx'' = (2 + 4x^2) erfcx - 4x/sqrt(pi) cancel
# by up to 25x for 0.5 <= x < 2 (where the continued fraction used beyond 2 needs
# too many terms).  There: Taylor series of erfcx about the centres 0.625, 0.875,
# ..., 1.875 (|x - c| <= 1/8, 18 terms reach 1e-19), coefficients from the ODE
# y' = 2xy - 2/sqrt(pi), i.e. (n + 1) a_(n+1) = 2c a_n + 2 a_(n-1), evaluated with
# mpmath at 60 digits and rounded once.
_ERFCX_TAYLOR = (  # erfcx's Taylor coefficients a_0 .. a_17 about 0.625, 0.875, ..., 1.875
    (0.5568138808733625, -0.43236181600380946, 0.2865877458709816, -0.16882964988963062,
     0.09053460734498123, -0.044898208119606944, 0.02082440909007563, -0.009109414982374192,
     0.00378275618152294, -0.0014989316375383012, 0.0005691847816123003,
     -0.00020785293618738425, 7.321278274919753e-05, -2.4937684149097815e-05,
     8.232390022287343e-06, -2.6389920513557637e-06, 8.228774987737488e-07,
     -2.499639546614318e-07),
    (0.464311583202669, -0.3158338964908418, 0.1879569237731824, -0.1009143921262048,
     0.0498284153313766, -0.022925811484500114, 0.009922776760813, -0.0040695376625110675,
     0.001590482826528954, -0.0005950811531773852, 0.0002139573634997484,
     -7.415790183911005e-05, 2.4844866565087853e-05, -8.064406706870489e-06,
     2.5412158137965964e-06, -7.787790493064624e-07, 2.324730182066802e-07,
     -6.769001863242556e-08),
    (0.3956980795529959, -0.2380584881012718, 0.12788228043906513, -0.06279394840488235,
     0.028619544241786244, -0.01223878445314913, 0.004950303910664491,
     -0.0019056264439004506, 0.0007016185403191211, -0.0002480679080092087,
     8.450842876175226e-05, -2.7817441027679537e-05, 8.868967934268797e-06,
     -2.74459263101956e-06, 8.259001749102559e-07, -2.4206065789940297e-07,
     6.919774184667845e-08, -1.9319199802575258e-08),
    (0.3432958898621254, -0.18431546997466777, 0.08986211864695719, -0.0405033712234011,
     0.017084991607390333, -0.006804603105295757, 0.00257622077920289, -0.000932085581111938,
     0.00032365077629349377, -0.0001082368363796409, 3.496502525429751e-05,
     -1.0938168482723969e-05, 3.320840598425341e-06, -9.803096399829424e-07,
     2.818449776355422e-07, -7.90363727645429e-08, 2.1646245635536966e-08,
     -5.796798237138774e-09),
    (0.30226120936348594, -0.14603023666418335, 0.06496207478418799, -0.02697791009325191,
     0.010561485441326816, -0.003926198500438334, 0.0013938042927048415,
     -0.000474647578512276, 0.00015562549440559825, -4.9279144467373076e-05,
     1.5109376929223401e-05, -4.495710355888191e-06, 1.3006412668175152e-06,
     -3.6648743035534286e-07, 1.0072845607001184e-07, -2.7040491898876486e-08,
     7.098457091792195e-09, -1.8241763676134315e-09),
    (0.2694299851646704, -0.11801672272799837, 0.04814863004967349, -0.01849202758990706,
     0.006738039159298878, -0.0023432816664886646, 0.0007814620115442105,
     -0.0002508686842409343, 7.777080714811466e-05, -2.3344093519604294e-05,
     6.800126359771322e-06, -1.9261557445514666e-06, 5.314307231228871e-07,
     -1.43034329030162e-07, 3.7605908027333326e-08, -9.669766863854937e-09,
     2.434386894700665e-09, -6.006225219166106e-10),
)
_ERFCX_LO, _ERFCX_STEP = 0.5, 0.25


def _derivative_coefs(n: int) -> np.ndarray:
    """Row i: the Taylor coefficients of erfcx^(n) about centre i."""
    a = np.array(_ERFCX_TAYLOR)
    k = np.arange(a.shape[1] - n)
    scale = np.array([math.perm(j + n, n) for j in k], dtype=float)
    return a[:, n:] * scale


_ERFCX_D = {1: _derivative_coefs(1), 2: _derivative_coefs(2)}


def erfcx_derivative_mid(n: int, x: Any) -> Any:
    """``erfcx^(n)(x)`` (n = 1, 2) for 0.5 <= x < 2 from the Taylor tables.

    Examples
    --------
    >>> round(erfcx_derivative_mid(1, 1.0), 12)  # 2 erfcx(1) - 2/sqrt(pi)
    -0.273212014784
    """
    return _taylor_mid(x, _ERFCX_D[n], _ERFCX_LO, _ERFCX_STEP)


# --- log_ndtr: h = phi/Phi and its derivatives for -4 <= x < 2 ---------------------
# log_ndtr's third derivative h'' = h ((x + h)(x + 2h) - 1) amplifies the rounding of
# h by up to 12x near x = 0 (the bracket is 0.27 there and tends to 0 as x -> -inf),
# and the erfcx form used below 0 cancels too (~40 ulps for -4 < x < 1).  There:
# Taylor series of h about the centres -3.875, -3.625, ..., 1.875 (abs(x - c) <= 1/8),
# coefficients a_2 .. a_21 from the Riccati equation h' = -h (x + h) at 60 digits
# (scripts/gen_log_ndtr_table.py).
_LOG_NDTR_TAYLOR = (
    (0.009547545836595991, 0.0017210726395440142, 0.000286485677341249,
     4.369870649028676e-05, 5.9974117123432115e-06, 7.09647630284016e-07,
     6.384547477819353e-08, 1.7937716199779913e-09, -9.423524038013123e-10,
     -3.001486637244621e-10, -6.106046868637827e-11, -9.892835221874296e-12,
     -1.3076272738182463e-12, -1.29209102902413e-13, -4.856894237644271e-15,
     1.731748927745801e-15, 5.993378154952329e-16, 1.2573349423362443e-16,
     2.070857166064099e-17, 2.7600181798517865e-18),
    (0.01095297677198014, 0.0020368447423627476, 0.00034713734609833247,
     5.3682715317963376e-05, 7.352455656422873e-06, 8.391690870540742e-07,
     6.432576399568795e-08, -1.8341131847668496e-09, -2.069343209193806e-09,
     -5.396978804278729e-10, -1.0158882773040354e-10, -1.533790867936098e-11,
     -1.8013796587371594e-12, -1.2401858137193013e-13, 1.0589719149205343e-14,
     6.21308602477391e-15, 1.5077781475723156e-15, 2.721669579466826e-16,
     3.915642320880281e-17, 4.204622606462337e-18),
    (0.01261962320943446, 0.00241994962167291, 0.0004216098336368231,
     6.586761519261903e-05, 8.929198759341915e-06, 9.59032750282076e-07,
     5.2770497523915724e-08, -9.258395941755635e-09, -4.04848576048576e-09,
     -9.300760725785189e-10, -1.6244348987657922e-10, -2.2291569775707485e-11,
     -2.0994980463308992e-12, -4.853453962069331e-15, 5.636135115660298e-14,
     1.670583909010833e-14, 3.3559432546493364e-15, 5.249275546385575e-16,
     6.146327809964253e-17, 3.526731860267202e-18),
    (0.01460352412848743, 0.002885650871057139, 0.0005128530101290785,
     8.056065161563531e-05, 1.0683923075171264e-05, 1.0348171011699494e-06,
     1.7811243121444055e-08, -2.3201470387988634e-08, -7.383980949291744e-09,
     -1.5377466616032816e-09, -2.4634789911138017e-10, -2.8991332744882408e-11,
     -1.4708116907871548e-12, 4.142953567146081e-13, 1.6861596663612254e-13,
     3.856888575611451e-14, 6.621079429498497e-15, 8.488186891076224e-16,
     5.861061996884244e-17, -7.677119788579664e-18),
    (0.01697331706071429, 0.0034523349333802425, 0.0006241375220402258,
     9.79468959515216e-05, 1.248876112073582e-05, 1.0022061234293625e-06,
     -5.96376675214186e-08, -4.7877455667903474e-08, -1.2762680335992965e-08,
     -2.4234296502011303e-09, -3.4452504635733964e-10, -2.952513362520331e-11,
     1.8464681470593193e-12, 1.514599952524855e-12, 4.095646739195471e-13,
     7.816625440535553e-14, 1.1033330981541123e-14, 8.997279571528423e-16,
     -7.715799696317144e-17, -5.29932570563424e-17),
    (0.019812675828236197, 0.004141724680436894, 0.0007588045328292001,
     0.00011791625414843751, 1.4063773293036385e-05, 7.478742521265557e-07,
     -2.1020612873404506e-07, -8.937568574569734e-08, -2.09676552298317e-08,
     -3.580356507634824e-09, -4.1577542354280816e-10, -8.714821502089532e-12,
     1.1569385982321883e-11, 3.969532405026526e-12, 8.580892826935136e-13,
     1.343878767289931e-13, 1.279281869408695e-14, -6.232992391213167e-16,
     -6.449343220691381e-16, -1.832763341809568e-16),
    (0.023222783191053958, 0.004978710558212231, 0.0009197240058037442,
     0.00013975999506900158, 1.486847744263168e-05, 8.211467079994162e-08,
     -4.803082297629728e-07, -1.555277467455356e-07, -3.250892903756295e-08,
     -4.779110993096044e-09, -3.431096417759608e-10, 6.66849716124115e-11,
     3.445691565295565e-11, 8.685254740350662e-12, 1.5255561522391703e-12,
     1.68475267501409e-13, -2.826433404638337e-15, -7.293240407742613e-15,
     -2.267408666901113e-15, -4.620067669723765e-16),
    (0.02732441934652372, 0.005990412479958489, 0.0011082558668679995,
     0.000161665113943477, 1.3938616206007884e-05, -1.2957833298772146e-06,
     -9.345488025652518e-07, -2.5414234861228535e-07, -4.6605432957191155e-08,
     -5.234065948980087e-09, 1.4316064127308905e-10, 2.5911182266252403e-10,
     8.011668118295908e-11, 1.6031918067836902e-11, 2.050822856743617e-12,
     2.4913819831755452e-14, -7.589114199873931e-14, -2.6282730881990564e-14,
     -5.6289894666050386e-15, -7.928379236204082e-16),
    (0.032258867992712784, 0.007203831028359162, 0.0013224067753807337,
     0.00017991745973968646, 9.66144408540619e-06, -3.830595719093801e-06,
     -1.6502730318660895e-06, -3.8725457804143634e-07, -5.8886408395312705e-08,
     -2.9916258572004896e-09, 1.5692087220034065e-09, 6.620677702829073e-10,
     1.546177012222729e-10, 2.2985575097111377e-11, 9.106248258802488e-13,
     -7.163682444563971e-13, -2.8391006128007383e-13, -6.439857163144877e-14,
     -9.174656644977611e-15, -2.344517356889546e-16),
    (0.03818623127792059, 0.008641083074727319, 0.0015537643843323706,
     0.00018773263931386877, -4.875719945520048e-07, -8.115207267570792e-06,
     -2.690937832946373e-06, -5.371803356246863e-07, -5.7009074787271446e-08,
     5.946616935154875e-09, 4.764372758526675e-09, 1.3525350785614117e-09,
     2.358205643779215e-10, 1.5806554675383363e-11, -5.993955459079067e-12,
     -2.8389478157823158e-12, -6.8912470069447e-13, -9.984924568924957e-14,
     -9.17361716089932e-16, 4.554034073774693e-15),
    (0.04527882384618114, 0.010310759916145633, 0.0017827304159302461,
     0.0001737180076017211, -2.0146229933624403e-05, -1.4800662929913727e-05,
     -4.0335105829266e-06, -6.386314201484711e-07, -1.4005833163275361e-08,
     2.8223255965369048e-08, 1.0550521105213915e-08, 2.1963829392826165e-09,
     2.1063829067377644e-10, -4.2532441414499295e-11, -2.6052941807003456e-11,
     -6.8663397795667824e-12, -1.0212257087925537e-12, 7.263828789153931e-15,
     5.689227840209046e-14, 1.9561800597117504e-14),
    (0.05370604817651286, 0.01219351116024054, 0.0019717151639323167,
     0.00012022943568072388, -5.394037423096544e-05, -2.4285365179652534e-05,
     -5.413766757333241e-06, -5.338877969417433e-07, 1.1758325037258115e-07,
     7.141959692508087e-08, 1.8353206291889693e-08, 2.354539837901419e-09,
     -2.2863806108257717e-10, -2.168567541968408e-10, -6.335219892576114e-11,
     -9.810642113960958e-12, 2.0969858629511538e-13, 6.442394589056556e-13,
     2.1573906654915347e-13, 3.8875017624784295e-14),
    (0.06360566388963013, 0.014219887132552228, 0.0020566133902291278,
     2.4824368476628614e-06, -0.00010648153362882556, -3.598650396692702e-05,
     -6.062001973934467e-06, 7.448073915216898e-08, 3.9855090386969063e-07,
     1.3520235376266604e-07, 2.2657075881616717e-08, -5.071925530047352e-10,
     -1.6090921698360814e-09, -5.374519261813706e-10, -8.844713109051821e-11,
     2.7381812007369725e-12, 6.585757954866349e-12, 2.1623619736295605e-12,
     3.487942495042339e-13, -1.3658608782327315e-14),
    (0.07503517901192489, 0.016239529826611282, 0.0019385847898495754,
     -0.00020962534116800288, -0.000179575753923764, -4.700444126220124e-05,
     -4.383162805081665e-06, 1.60822127271112e-06, 8.535189030317619e-07,
     1.8833008608778616e-07, 7.46091779292529e-09, -1.034352515605699e-08,
     -4.152479992841094e-09, -7.46510946288192e-10, 2.4598687192620265e-11,
     6.044157801244354e-11, 1.9616222377060342e-11, 2.726478983158629e-12,
     -3.9989638826916804e-13, -3.30573350861384e-13),
    (0.08789752993991395, 0.01798435497213813, 0.0014815422325158405,
     -0.0005434946105471817, -0.00026660775356198693, -5.03086554120002e-05,
     2.1194954366524277e-06, 4.3771738133489166e-06, 1.337688015044109e-06,
     1.3301892046432436e-07, -5.444377326028713e-08, -2.8819928028582038e-08,
     -5.866361054100036e-09, 1.4562363670288493e-10, 4.945034730475335e-10,
     1.606075849480691e-10, 1.8294543737123153e-11, -5.821396346802421e-12,
     -3.4099082051477474e-12, -7.434135684408733e-13),
    (0.10183982525376412, 0.019036235768127387, 0.0005259055680640006,
     -0.001005086443695445, -0.00034405196829741437, -3.3596761425264536e-05,
     1.5927698285465825e-05, 7.900119097953287e-06, 1.3287760358172389e-06,
     -2.0077697571748655e-07, -1.7589437208704537e-07, -4.24803373451278e-08,
     2.102041969272245e-10, 3.5729707386162603e-09, 1.1856653012080233e-09,
     1.0444257583274543e-10, -6.273817148407371e-11, -2.9784011448378287e-11,
     -4.860157923652133e-12, 8.222470070247276e-13),
    (0.11613645071778447, 0.018822894889396247, -0.0010659844819352763,
     -0.0015471400362336133, -0.0003636485372099025, 1.8113151843554268e-05,
     3.653081841867367e-05, 9.814234227301142e-06, -1.2506995422297548e-07,
     -9.100907550408914e-07, -2.786817540994596e-07, -7.692657429052456e-09,
     2.2486547522500813e-08, 7.898054567522058e-09, 5.176510931864574e-10,
     -5.424312654111491e-10, -2.2071704965188978e-10, -2.224003855890384e-11,
     1.2664731808464141e-11, 6.067850209546428e-12),
    (0.12959147199558727, 0.016680979730838975, -0.003319754739219019,
     -0.0020321912793426775, -0.00025571609973472245, 0.00011163587657728859,
     5.538586276523511e-05, 5.44740022634561e-06, -3.700454709862124e-06,
     -1.613507754710321e-06, -1.202753475378359e-07, 1.2041356778240642e-07,
     4.749816574524539e-08, 2.4847280883614966e-09, -3.866165352615908e-09,
     -1.3957517033207577e-09, -4.1876845502771165e-11, 1.2292938566539945e-10,
     4.081257439819922e-11, 2.731128070499904e-13),
    (0.14052746262070032, 0.012029566277785852, -0.006023084708019511,
     -0.002219195303906958, 3.994582785887002e-05, 0.00022561340796579306,
     5.302884764555101e-05, -9.334618448803695e-06, -7.911819732327855e-06,
     -1.1245461138271536e-06, 5.232231863248264e-07, 2.5680734768821606e-07,
     1.4250863969712947e-08, -2.2943681907319062e-08, -7.646546223393463e-09,
     3.368228958643758e-10, 8.875626241744016e-10, 2.0357339774862613e-10,
     -3.7744089058771414e-11, -3.13662212871382e-11),
    (0.1469515350710602, 0.004665461472186096, -0.008623319439622077,
     -0.0018233966241392166, 0.0005084656477192393, 0.0002948966203496776,
     8.209215095151106e-06, -3.0469168060529068e-05, -7.723874841146417e-06,
     1.6260985092612544e-06, 1.2279959064339791e-06, 1.0083478909233218e-07,
     -1.1323090886379197e-07, -3.728163834032843e-08, 3.97697128059164e-09,
     5.0570656750201535e-09, 7.260981799111246e-10, -3.935605219102352e-10,
     -1.714630943297498e-10, 4.064507739762584e-12),
    (0.14696780554139185, -0.0048984947898661505, -0.010266465331085559,
     -0.0006831168277510877, 0.0009935894608035366, 0.00023133821404111118,
     -7.547273439816355e-05, -3.994846166539749e-05, 1.7259964859102908e-06,
     4.991963896120527e-06, 7.072613391250989e-07, -4.5560950372608944e-07,
     -1.6675483342150457e-07, 2.259841875143753e-08, 2.3695776179323268e-08,
     1.7364165611204634e-09, -2.4504094138106698e-09, -6.562313157528294e-10,
     1.650935789570857e-10, 1.0723541521656965e-10),
    (0.1393996338820978, -0.015254704165592946, -0.01008771778236489,
     0.0010262098664871723, 0.0012176945873309615, 5.043846780265973e-07,
     -0.00014694625074724427, -1.759660633052182e-05, 1.5796139077920634e-05,
     4.165677205311626e-06, -1.39496216177086e-06, -6.912174099633572e-07,
     7.969921334863382e-08, 9.478759604874147e-08, 2.7705281445092774e-09,
     -1.1176949434114219e-08, -1.809898475818146e-09, 1.1213043935411029e-09,
     3.6780958333569716e-10, -8.792806391028532e-11),
    (0.12440638495766895, -0.02432871442245438, -0.00770455531183609,
     0.0027204520157790824, 0.000952781351617417, -0.0002993354947081755,
     -0.00013484325888616966, 2.975673151321446e-05, 1.8989658249111994e-05,
     -2.454172569840579e-06, -2.5662725816566486e-06, 1.237570183278001e-07,
     3.3088130168647734e-07, 8.645622103377078e-09, -4.074253445445431e-08,
     -4.0561981489370145e-09, 4.790155513333003e-09, 8.553298782431519e-10,
     -5.353019830414859e-10, -1.4562983547773318e-10),
    (0.10374455581265077, -0.030082801007768334, -0.003606761176098248,
     0.003657681554522015, 0.00024594349938035514, -0.00047149199871054156,
     -2.5378132726685084e-05, 6.094719700680611e-05, 3.4459264584043176e-06,
     -7.797827043944394e-06, -5.116862412712456e-07, 9.872590302405981e-07,
     7.583760438399114e-08, -1.2409590616396091e-07, -1.0975705557315918e-08,
     1.553642826467373e-08, 1.553600884411479e-09, -1.941342306638571e-09,
     -2.163546498987199e-10, 2.423365144335987e-10),
)
_LOG_NDTR_LO, _LOG_NDTR_STEP, _LOG_NDTR_FIRST = -4.0, 0.25, 2


def _log_ndtr_coefs(n: int) -> np.ndarray:
    """Row i: the Taylor coefficients of h^(n) (n >= 2) about centre i."""
    a = np.array(_LOG_NDTR_TAYLOR)[:, n - _LOG_NDTR_FIRST:]
    scale = np.array([math.perm(j + n, n) for j in range(a.shape[1])], dtype=float)
    return a * scale


_LOG_NDTR_D = {2: _log_ndtr_coefs(2), 3: _log_ndtr_coefs(3)}


def log_ndtr_h_derivative_mid(n: int, x: Any) -> Any:
    """``h^(n)(x)`` (n = 2, 3) for h = phi/Phi (log_ndtr's derivative), -4 <= x < 2,
    from the Taylor tables: log_ndtr's third and fourth derivatives.

    Examples
    --------
    >>> h0 = math.sqrt(2 / math.pi)  # h(0) = phi(0) / Phi(0); h''(0) = h0 (2 h0**2 - 1)
    >>> bool(abs(log_ndtr_h_derivative_mid(2, 0.0) - h0 * (2 * h0 ** 2 - 1)) < 1e-15)
    True
    """
    return _taylor_mid(x, _LOG_NDTR_D[n], _LOG_NDTR_LO, _LOG_NDTR_STEP)


def _taylor_mid(x: Any, table: np.ndarray, lo: float, step: float) -> Any:
    """The Taylor series of ``table`` (row i about lo + step (i + 1/2)) at x."""
    v = plain_array(value(x))
    lazy = is_foreign_array(v)
    dt = v.dtype if v.dtype.kind == "f" else np.dtype(np.float64)  # float32 stays float32
    v = v.astype(np.float64)
    idx = np.clip(np.floor((v - lo) / step), 0, len(table) - 1).astype(np.intp)
    centre = (lo + step * (idx + 0.5)).astype(dt)
    if lazy:  # each coefficient picked elementwise (numpy's table[dask index] computes;
        # np.choose takes up to 32 rows, the tables have at most 24)
        idx = np.where(np.isnan(v), 0, idx)  # (a nan index would pick nothing)
        coefs = [np.choose(idx, list(table[:, j].astype(dt))) for j in range(table.shape[1])]
    elif idx.ndim == 0:
        centre = float(centre)
        coefs = [float(c) for c in table[idx].astype(dt)]
    else:
        rows = table[idx].astype(dt)  # shape x.shape + (terms,)
        coefs = [rows[..., j] for j in range(rows.shape[-1])]
    h = x - centre
    p = coefs[-1]
    for c in reversed(coefs[:-1]):
        p = p * h + c
    return p


# --- e^{-|x|} I_nu(x): derivatives for 0 < |x| < 20 ----------------------------------
# The closed forms (i1e - sign i0e, i0e - i1e/x - sign i1e, ...) cancel by up to 2|x|
# (100+ ulps for i1e'' at 3).  With Kummer's e^{-x} I_nu(x) = (x/2)^nu / nu! *
# e^{-2x} M(nu + 1/2, 2 nu + 1, 2x), F = e^{-2x} M(a, b, 2x) has
# F^(n)(x) = (-2)^n e^{-2x} sum_k m_k (b - a)_n / (b + k)_n (2x)^k / k!,
# m_k = (a)_k / (b)_k (the forward differences of the moments m_k of a Beta(a, b - a)
# variable are positive: no cancellation).  For nu = 1, (x F)^(n) = x F^(n) + n F^(n-1)
# collects into one series whose coefficients change sign at most once (the zero of
# the derivative itself).  130 terms: (2x)^k / k! is below 1e-17 of its peak at x < 20.
_KUMMER_TERMS = 130


def _poch(q: float, n: int) -> float:
    out = 1.0
    for j in range(n):
        out *= q + j
    return out


def _kummer_coefs(nu: int, n: int) -> np.ndarray:
    """Coefficients s_j of sum_j s_j w^j (w = z / 32, z = 2|x|) with the nu-th scaled
    Bessel function's n-th derivative = e^{-z} sum_j s_j w^j for x > 0."""
    a, b = nu + 0.5, 2.0 * nu + 1.0
    m = [1.0]
    for k in range(_KUMMER_TERMS):
        m.append(m[-1] * (a + k) / (b + k))

    def beta(order: int, k: int) -> float:
        return _poch(b - a, order) / _poch(b + k, order)

    out = []
    fact = 1.0
    for j in range(_KUMMER_TERMS):
        if j:
            fact *= j
        if nu == 0:
            c = (-2.0) ** n * m[j] * beta(n, j)
        else:
            c = n * m[j] * beta(n - 1, j) - (j * m[j - 1] * beta(n, j - 1) if j else 0.0)
            c *= 0.5 * (-2.0) ** (n - 1)
        out.append(c / fact * 32.0 ** j)  # in w = z / 32: no float32 underflow of 1/j!
    return np.array(out)


_KUMMER = {(nu, n): _kummer_coefs(nu, n) for nu in (0, 1) for n in (1, 2)}


def _asymptotic_coefs(nu: float) -> list[float]:
    """b_k of e^{-x} I_nu(x) ~ sum_k b_k x^{-k-1/2} (x -> +inf), 40 terms."""
    out, a = [], 1.0
    for k in range(40):
        out.append((-1) ** k * a / math.sqrt(2.0 * math.pi))
        a *= (4.0 * nu * nu - (2 * k + 1) ** 2) / ((k + 1) * 8.0)
    return out


_ASYMPTOTIC = {0: _asymptotic_coefs(0.0), 1: _asymptotic_coefs(1.0)}


def scaled_bessel_asymptotic_coefs(nu: int, n: int) -> list[float]:
    """Coefficients c_k with (d/dx)^n e^{-x} I_nu(x) ~ x^{-1/2-n} sum_k c_k x^{-k}.

    The asymptotic series differentiated termwise: for abs(x) >= 20 the closed
    forms of i0e', i1e' ... cancel (i1e - i0e ~ i0e / 2x) and 40 terms reach 1e-17.

    Examples
    --------
    >>> c = scaled_bessel_asymptotic_coefs(0, 1)
    >>> round(c[0] * (2 * math.pi) ** 0.5, 12)   # -1/2: i0e'(x) ~ -x**-1.5 / (2 sqrt(2 pi))
    -0.5
    """
    coefs = []
    for k, b in enumerate(_ASYMPTOTIC[nu]):
        f = 1.0
        for j in range(n):
            f *= -(k + 0.5 + j)
        coefs.append(b * f)
    return coefs


def horner(u: Any, coefs: Any) -> Any:
    """sum(coefs[k] * u**k) by Horner's rule (on floats, arrays and engine numbers).

    Examples
    --------
    >>> horner(2.0, [1.0, 0.0, 3.0])   # 1 + 3 * 2**2
    13.0
    """
    p = coefs[-1]
    for c in reversed(coefs[:-1]):
        p = p * u + c
    return p


def scaled_bessel_derivative_mid(nu: int, n: int, x: Any) -> Any:
    """n-th derivative (n = 1, 2) of ``e^{-|x|} I_nu(x)`` (nu = 0, 1) for x != 0,
    meant for |x| < 20 (beyond, the asymptotic series).

    Examples
    --------
    >>> import math
    >>> from scipy import special
    >>> x = 3.0  # i1e'(x) = i0e(x) - i1e(x) (1 + 1/x) for x > 0
    >>> v = scaled_bessel_derivative_mid(1, 1, x)
    >>> math.isclose(v, special.i0e(x) - special.i1e(x) * (1 + 1 / x), rel_tol=1e-13)
    True
    """
    coefs = _KUMMER[nu, n]
    v = plain_array(value(x))  # (dask stays lazy)
    s = np.sign(v if v.dtype.kind == "f" else v.astype(np.float64))  # float32 stays
    sign = s if (nu + n) % 2 else 1.0  # i0e is even, i1e odd
    if np.ndim(s) == 0:
        sign = float(sign)
    ax = x * s  # |x|, differentiably
    w = ax * (2.0 / 32.0)  # z / 32, z = 2|x|
    p = float(coefs[-1])
    for c in coefs[-2::-1]:
        p = p * w + float(c)
    return p * np.exp(ax * -2.0) * sign


# --- psi(a) - psi(a + b) and psi'(a) - psi'(a + b) without cancellation -------------
# The derivatives of betaln are differences of digamma (trigamma) values that agree
# to many digits when |b| << a (psi(1e6) - psi(1e6 + 0.5): 7 digits lost; at
# (1e150, 1e-150) all of them).  Shifted up by N = 10 (psi(x) = psi(x + N) -
# sum 1/(x + j)) and expanded asymptotically, every term of the difference is formed
# from b directly: log(x / y) = -log1p(b / x), x^-k - y^-k = -x^-k expm1(-k log1p(b / x)).
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510,
              43867 / 798)
_SHIFT = 10


def _psi_difference_shifted(a: Any, b: Any, order: int) -> Any:
    """psi^(order)(a) - psi^(order)(a + b) for a, a + b > -1 and nonzero (order 0 or 1)."""
    total = 0.0
    va, vb = _plain64(value(a)), _plain64(value(b))
    for j in range(_SHIFT):
        p, q = a + float(j), a + b + float(j)
        # 1/p - 1/q as b/(p q) when |b| < |p| (no cancellation of the value), as the
        # difference otherwise (then its derivative in a is free of cancellation and
        # of overflow: d/da b/(p q) = b/(p q^2) - b/(p^2 q) cancels for b >> p)
        small = np.abs(vb) < np.abs(va + j)
        if np.ndim(small) == 0:
            small = bool(small)
        if order == 0:
            def near(p: Any, q: Any = q) -> Any:
                return -(b / p / q)  # not b / (p q): p q underflows at a = 3e-200

            def far(p: Any, q: Any = q) -> Any:
                return 1.0 / q - 1.0 / p
        else:
            def near(p: Any, q: Any = q) -> Any:
                r = b / p / q
                return r * (1.0 / p + 1.0 / q)

            def far(p: Any, q: Any = q) -> Any:
                return 1.0 / p / p - 1.0 / q / q
        if small is True:
            term = near(p)
        elif small is False:
            term = far(p)
        else:
            with _fpe_ignored():
                term = np.where(small, near(p), far(p))
        total = total + term
    x = a + float(_SHIFT)
    y = x + b
    lr = np.log1p(b / x)  # log(y / x)

    def power_gap(k: int) -> Any:  # x^-k - y^-k
        return -np.expm1(lr * float(-k)) * x ** float(-k)

    if order == 0:  # psi(x) ~ log x - 1/(2x) - sum B_2k / (2k x^2k)
        out = -lr - b / x / y * 0.5
        for k, bern in enumerate(_BERNOULLI, start=1):
            out = out - (bern / (2 * k)) * power_gap(2 * k)
    else:  # psi'(x) ~ 1/x + 1/(2x^2) + sum B_2k / x^(2k+1)
        r = b / x / y  # x y overflows at a = 3e200
        out = r + r * (0.5 / x + 0.5 / y)
        for k, bern in enumerate(_BERNOULLI, start=1):
            out = out + bern * power_gap(2 * k + 1)
    return total + out


def psi_difference(a: Any, b: Any, order: int, plain: Any) -> Any:
    """``psi^(order)(a) - psi^(order)(a + b)`` (order 0: digamma, 1: trigamma) for
    floats, arrays or engine values; ``plain(a, b)`` (the direct difference) where
    a or a + b is <= -1 or 0.

    Examples
    --------
    >>> d = psi_difference(1e6, 0.5, 0, None)  # the direct difference loses 7 digits
    >>> bool(abs(d - (-5.00000125e-07)) < 1e-15)
    True
    """
    va = _plain64(value(a))
    vb = _plain64(value(b))
    # a, a + b in (-1, 0) too: the shift by 10 passes no pole and leaves the
    # asymptotic series at x > 9 (digamma(b) - digamma(a + b) at (-1.8e-9, -0.0195) lost 9
    # digits to the direct difference)
    ok = (va > -1) & (va + vb > -1) & (va != 0) & (va + vb != 0)
    if not may_hold(~ok):
        return _psi_difference_shifted(a, b, order)
    if not may_hold(ok):
        return plain(a, b)
    with _fpe_ignored():
        one = np.ones((), dtype=np.result_type(value(a), value(b), 1.0))
        good = _psi_difference_shifted(np.where(ok, a, one), np.where(ok, b, one), order)
        bad = plain(a, b)
    return np.where(ok, good, bad)


# --- beta's second partials without cancellation (plain floats and arrays) -----------
# B_ab = B (L_ab + L_a L_b), L = log B: the two terms are O(1/b) and cancel to O(1)
# when b is small (and to O(1) from O(1/a^2) when both are).  With phi(x) = psi(1 + x)
# (psi(x) = phi(x) - 1/x takes the poles out) the 1/s^2 parts cancel analytically and
#   B_ab = G [R(1 + a, b) + R(1 + b, a) + s Q(1 + a, b) Q(1 + b, a)],
#   G = B a b / s = Gamma(1 + a) Gamma(1 + b) / Gamma(1 + s),  s = a + b,
# with Q(x, h) = (psi(x + h) - psi(x)) / h and R(x, h) = (Q(x, h) - psi'(x + h)) / h,
# a second divided difference.  Where a, b > -1 and s > 0 all three terms have one
# sign (psi' is decreasing on (0, inf)), so nothing cancels; R is summed as a series
# about the midpoint where h is small next to x, as a difference where h is large
# (little cancellation there), and by halving the interval in between.
def is_plain(*vs: Any) -> bool:
    """True if every value is a Python/numpy real number or a real numpy array."""
    for v in vs:
        if isinstance(v, (float, int, np.floating, np.integer)) and not isinstance(v, bool):
            continue
        if type(v) is np.ndarray and v.dtype.kind in "fiu":
            continue
        return False
    return True


def _polygamma(n: int, x: Any) -> Any:
    from scipy import special

    return special.polygamma(n, x)


def _q_plain(x: np.ndarray, h: np.ndarray) -> np.ndarray:
    """(psi(x + h) - psi(x)) / h for x > 0, x + h > 0 (psi'(x) at h = 0)."""
    with _fpe_ignored():
        hh = np.where(h == 0, 1.0, h)
        d = _psi_difference_shifted(x, hh, 0)
        return np.where(h == 0, _polygamma(1, x), -d / hh)


def _r_series(x: np.ndarray, h: np.ndarray) -> np.ndarray:
    """R(x, h) about the midpoint c = x + h/2 (w = h/2, abs(w)/c <= 1/4):
    R = 1/2 sum_(n >= 2) psi^(n)(c) w^(n-2) alpha_n, alpha_n = -1/(n-1)! (+ 1/n! for odd n)."""
    c, w = x + 0.5 * h, 0.5 * h
    total = np.zeros_like(c)
    p = np.ones_like(c)  # w^(n-2)
    with _fpe_ignored():
        for n in range(2, 90):
            alpha = -1.0 / math.factorial(n - 1) + (1.0 / math.factorial(n) if n % 2 else 0.0)
            term = _polygamma(n, c) * p * alpha
            total = total + term
            if n > 3 and np.all(np.abs(term) <= 1e-18 * np.abs(total)):
                break
            p = p * w
    return 0.5 * total


def _r_plain(x: np.ndarray, h: np.ndarray) -> np.ndarray:
    """R(x, h) = ((psi(x + h) - psi(x)) / h - psi'(x + h)) / h for x > 0, x + h > 0."""
    out = np.empty_like(x)
    with _fpe_ignored():
        t = h / x
        r = np.abs(0.5 * h) / (x + 0.5 * h)
    ser = r <= 0.25
    direct = ~ser & ((t >= 4.0) | (t <= -0.7))
    split = ~ser & ~direct
    if np.any(ser):
        out[ser] = _r_series(x[ser], h[ser])
    if np.any(direct):
        xd, hd = x[direct], h[direct]
        out[direct] = (_q_plain(xd, hd) - _polygamma(1, xd + hd)) / hd
    if np.any(split):  # u(x, h) = u(x, h/2)/2 + u(m, h/2)/2 + (psi'(m) - psi'(x + h))/2
        xs, hs = x[split], 0.5 * h[split]
        m = xs + hs
        out[split] = (0.25 * _r_plain(xs, hs) + 0.25 * _r_plain(m, hs)
                      + _psi_difference_shifted(m, hs, 1) / (4.0 * hs))
    return out


def _dpsi1_series(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(psi'(a + b) - psi'(a)) / b for abs(b) << a, about the midpoint."""
    c, w = a + 0.5 * b, 0.5 * b
    total = np.zeros_like(c)
    w2 = w * w
    p = np.ones_like(c)
    with _fpe_ignored():
        for j in range(12):
            term = _polygamma(2 * j + 2, c) * p / math.factorial(2 * j + 1)
            total = total + term
            if np.all(np.abs(term) <= 1e-18 * np.abs(total)):
                break
            p = p * w2
    return total


def beta_second_partials(a: Any, b: Any) -> tuple[Any, Any, Any]:
    """``(B_aa, B_ab, B_bb)``, the second partials of ``scipy.special.beta`` at plain
    (float or array) ``a``, ``b``, each within a few ulps where it is a normal float.

    Examples
    --------
    >>> baa, bab, bbb = beta_second_partials(2.0, 1e-8)
    >>> round(float(bab), 12)  # B (L_ab + L_a L_b) directly loses 8 digits here
    0.846990951422
    """
    from scipy import special

    dt = np.result_type(a, b, 1.0)
    ab, bb = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
    shape = ab.shape
    A, Bv = ab.ravel(), bb.ravel()
    with _fpe_ignored():
        S = A + Bv
        beta = special.beta(A, Bv)

        def gap(x: Any, y: Any, order: int) -> Any:  # psi^(order)(x) - psi^(order)(x + y)
            return psi_difference(x, y, order, lambda p, q: _polygamma(order, p)
                                  - _polygamma(order, p + q))

        la, lb = gap(A, Bv, 0), gap(Bv, A, 0)
        # B_ab: the stable form where a, b > -1 and s > 0, else B (L_ab + L_a L_b)
        new = (A > -1.0) & (Bv > -1.0) & (S > -1.0)
        bab = beta * (la * lb - _polygamma(1, S))
        if np.any(new):
            x, y, s, bn = A[new], Bv[new], S[new], beta[new]
            small = np.abs(x) <= np.abs(y)
            gfac = np.where(small, bn * x * (y / s), bn * y * (x / s))
            qa, qb = _q_plain(1.0 + x, y), _q_plain(1.0 + y, x)
            bab[new] = gfac * (_r_plain(1.0 + x, y) + _r_plain(1.0 + y, x) + (s * qa) * qb)

        def pure(x: Any, y: Any, lx: Any) -> Any:  # B_xx = B L_xx + B_x L_x
            bl = beta * gap(x, y, 1)
            # L_xx ~ y psi''(x) underflows at (1e150, 1e-150) where B L_xx does not
            tiny = (x > 0) & (np.abs(y) <= 1e-3 * x) & (y != 0)
            if np.any(tiny):
                bl[tiny] = -(beta[tiny] * y[tiny]) * _dpsi1_series(x[tiny], y[tiny])
            return bl + (beta * lx) * lx

        baa, bbb = pure(A, Bv, la), pure(Bv, A, lb)
    out = tuple(v.reshape(shape).astype(dt, copy=False) for v in (baa, bab, bbb))
    if not shape:
        return tuple(v[()] for v in out)  # type: ignore[return-value]
    return out  # type: ignore[return-value]


def _mant_exp(*fs: Any) -> tuple[Any, Any]:
    """The product of ``fs`` as (mantissa, binary exponent), no intermediate leaving
    the float range (frexp of each factor; mantissas in [0.5, 1) multiply safely)."""
    m, e = np.frexp(np.asarray(fs[0], dtype=float))
    e = e.astype(np.int64)
    for f in fs[1:]:
        m2, e2 = np.frexp(np.asarray(f, dtype=float))
        m, e = m * m2, e + e2
    return m, np.clip(e, -2200, 2200)


def _beta_big_second(a: Any, b: Any, key: tuple[int, int], bv: Any, la: Any, lb: Any,
                     ts: tuple[Any, ...]) -> tuple[Any, Any]:
    """A second partial of beta that overflows alone (B_aa = 2e900 at a = e**-300,
    b = 2), as (mantissa, exponent): ``B (1/x)(1/y) q`` with ``q`` the bracket times
    ``x y``, whose terms stay near 1 (``x L_x`` and ``x**2 L_xx = 1 + x**2 (psi'(1 + x)
    - psi'(x + y))``, psi'(x) = 1/x**2 + psi'(1 + x), where L_x**2 and L_xx overflow)."""
    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    s = x + y
    if key == (1, 1):
        # x y psi'(s) = (x/s)(y/s) + x y psi'(1 + s) near s = 0, else x y psi'(s)
        near = np.abs(s) < 1.0
        sn = np.where(near, s, 1.0)
        xyp = np.where(near, (x / sn) * (y / sn) + (x * y) * _polygamma(1, 1.0 + sn),
                       (x * y) * _polygamma(1, s))
        q = (x * la) * (y * lb) - xyp
        return _mant_exp(bv, 1.0 / x, 1.0 / y, q, *ts)
    u, w, lu = (x, y, la) if key == (2, 0) else (y, x, lb)
    # u**2 L_uu = 1 + u**2 (psi'(1 + u) - psi'(u + w))
    q = (u * lu) * (u * lu) + 1.0 + (u * u) * (_polygamma(1, 1.0 + u) - _polygamma(1, u + w))
    return _mant_exp(bv, 1.0 / u, 1.0 / u, q, *ts)


def beta_times(a: Any, b: Any, key: tuple[int, int], *ts: Any) -> Any:
    """A partial ``key`` of ``scipy.special.beta`` at plain ``a``, ``b`` times the
    tangents or cotangents ``ts``, formed in range: ``B_a t = B L_a t`` (L = log B)
    with B, L_a and t multiplied as mantissas and exponents, one rounding into the
    range at the end (B L_a alone underflows where the product does not: d/dv
    beta(e**v, 2) at 300 is B L_a e**v = 2.6e-261 (-2e-130) e**300, the partial
    -5e-391 was 0).  Second partials (``key`` (2, 0), (1, 1), (0, 2)): the
    cancellation-free ones of :func:`beta_second_partials` times ``ts``, or, where
    they leave the normal range while B is a normal float, ``B (L_xx + L_x**2)``,
    ``B (L_ab + L_a L_b)`` (no cancellation that far out: each sum's terms have
    one sign there, or its larger one dominates).  A result beyond the range under-
    or overflows as one numpy product would, raising its flag.

    Examples
    --------
    >>> a = float(np.exp(300.0))
    >>> print(f"{float(beta_times(a, 2.0, (1, 0), a)):.4e}")  # -2 e**-600
    -5.3008e-261
    """
    from scipy import special

    tiny = np.finfo(np.float64).tiny
    with _fpe_ignored():
        bv = special.beta(a, b)

        def gap(x: Any, y: Any, order: int) -> Any:
            return psi_difference(x, y, order, lambda p, q: _polygamma(order, p)
                                  - _polygamma(order, p + q))

        la = gap(a, b, 0) if key != (0, 2) else None
        lb = gap(b, a, 0) if key != (2, 0) else None
        if key == (1, 0):
            m, e = _mant_exp(bv, la, *ts)
        elif key == (0, 1):
            m, e = _mant_exp(bv, lb, *ts)
        else:
            baa, bab, bbb = beta_second_partials(a, b)
            p = {(2, 0): baa, (1, 1): bab, (0, 2): bbb}[key]
            m, e = _mant_exp(p, *ts)
            far = (np.abs(p) < tiny) & np.isfinite(bv) & (np.abs(bv) >= tiny)
            if np.any(far):
                if key == (2, 0):
                    lf = gap(a, b, 1) + la * la
                elif key == (0, 2):
                    lf = gap(b, a, 1) + lb * lb
                else:
                    lf = la * lb - _polygamma(1, np.asarray(a, dtype=float) + b)
                mf, ef = _mant_exp(bv, lf, *ts)
                m, e = np.where(far, mf, m), np.where(far, ef, e)
            big = ~np.isfinite(p) & np.isfinite(bv) & (bv != 0)
            if np.any(big):
                mb, eb = _beta_big_second(a, b, key, bv, la, lb, ts)
                m, e = np.where(big, mb, m), np.where(big, eb, e)
    out = np.ldexp(m, e)  # (the one rounding: its under/overflow is the product's)
    return out[()] if out.ndim == 0 else out


def _distance_to_pole(x: Any) -> Any:
    """Distance from ``x`` to the nearest pole of Gamma (0, -1, -2 ...)."""
    return np.where(x <= 0.5, np.abs(x - np.round(x)), x)


def beta_near_zeros(a: Any, b: Any, rule: Any) -> Any:
    """``scipy.special.beta(a, b)`` on engine values; ``rule(a, b)`` is beta's own rule.

    Where a + b is closer to a pole of Gamma than a and b are (4 times closer), B =
    Gamma(a) Gamma(b) rgamma(a + b) is small or 0 and log B's partials are poles:
    B (psi(a) - psi(a + b)) was 0 * inf = nan at (0.5, -0.5) (truth -2 pi), and the
    second partials, differences of terms 1/(a + b - n) apart, lost every digit at
    (0.3, -2.3) (2e16, truth 77).  There the product is differentiated as it stands:
    each factor is smooth through that zero (rgamma's derivatives are formed by
    reflection), so every order keeps its digits.  Elsewhere, and where Gamma(a)
    Gamma(b) leaves the float range, ``rule``: where the three distances are alike
    the product's terms cancel instead (its B_ab at (-0.3, 0.2) is 3.2 from terms of
    90, 100 ulps off; the rule's, 1 ulp).

    Examples
    --------
    >>> from hyperdual import Dual
    >>> d = beta_near_zeros(Dual(0.5, 1.0), -0.5, None)  # d/da at a + b = 0: -2 pi
    >>> bool(abs(d.dual + 2 * np.pi) < 1e-14)
    True
    """
    from scipy import special

    av, bv = _plain64(value(a)), _plain64(value(b))
    with _fpe_ignored():
        av, bv = np.real(av), np.real(bv)
        gg = special.gamma(av) * special.gamma(bv)
        near = ((_distance_to_pole(av + bv)
                 < 0.25 * np.minimum(_distance_to_pole(av), _distance_to_pole(bv)))
                & np.isfinite(gg) & (gg != 0.0))
    if not may_hold(near):
        return rule(a, b)

    def product(a: Any, b: Any) -> Any:
        return special.gamma(a) * special.gamma(b) * special.rgamma(a + b)

    if not is_foreign_array(near) and np.all(near):
        return product(a, b)
    with _fpe_ignored():  # each branch on stand-ins where the other is taken
        inner = product(np.where(near, a, 0.5), np.where(near, b, -0.5))
        outer = rule(np.where(near, 1.0, a), np.where(near, 1.0, b))
        return np.where(near, inner, outer)


def polygamma(n: int, x: Any) -> Any:
    """``scipy.special.polygamma(n, x)`` of plain data in ``x``'s float dtype: scipy
    computes it in float64 (a Python composition of gamma and zeta), which turned a
    float32 argument's derivatives (digamma', gammaln'', ...) into float64."""
    from scipy import special

    if engine_value(x):
        # another engine's value (a reverse Variable, also as a part of a Dual when
        # reverse differentiates hyperdual code): scipy's polygamma would call
        # np.asarray on it, so hand it to that engine's own rule, registered for this
        # function (reverse.functions.polygamma), as numpy's protocol does
        return hand_off(polygamma, x, (n, x), {})
    if is_foreign_array(x):
        # scipy's polygamma is a Python function that calls np.asarray (on dask: a
        # compute); its formula with the ufuncs, which dask applies lazily
        out = (special.digamma(x) if n == 0 else
               (-1.0) ** (n + 1) * math.gamma(n + 1.0) * special.zeta(n + 1.0, x))
    else:
        out = special.polygamma(n, x)
    dt = getattr(x, "dtype", None)
    if dt is not None and dt == np.float32:
        return np.asarray(out, dtype=dt) if np.ndim(out) else dt.type(out)
    return out


_TINY = float(np.finfo(np.float64).tiny)
_HUGE = float(np.finfo(np.float64).max)


def log_ratio_branches(rx: Any, ry: Any) -> tuple[Any, Any]:
    """The branches of log(x / y) (x, y > 0) on the plain values: ``(near, split)``.

    ``near``: x within a factor 2 of y, log1p((x - y) / y) (no cancellation).
    ``split``: x / y leaves the normal float range (0, subnormal or inf while x and
    y are finite and nonzero: x = 5e-324, y = 1e10), log(x) - log(y), whose terms
    are each within the range and add without cancellation (both logs are far
    apart there); log(x / y) was -inf where the truth is -766.  Elsewhere log(x / y).
    """
    with _fpe_ignored():
        rx, ry = _plain64(rx), _plain64(ry)
        near = np.abs(rx - ry) < 0.5 * np.abs(ry)
        q = np.abs(rx / ry)
        split = (~near & ~((q >= _TINY) & (q <= _HUGE)) & (rx != 0) & (ry != 0)
                 & np.isfinite(rx) & np.isfinite(ry))
    return near, split


def log_ratio_plain(x: Any, y: Any) -> Any:
    """log(x / y) of plain floats or arrays (x, y > 0) to full relative precision
    wherever the truth is a float, by the branches of :func:`log_ratio_branches`.

    >>> float(log_ratio_plain(5e-324, 1e10))  # log(5e-324 / 1e10) is -inf
    -767.4659228513217
    """
    near, split = log_ratio_branches(x, y)
    with _fpe_ignored():
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        out = np.where(near, np.log1p((x - y) / y), np.log(x / y))
        if np.any(split):
            out = np.where(split, np.log(x) - np.log(y), out)
    return out


def multigammaln(a: Any, d: int) -> Any:
    """``scipy.special.multigammaln(a, d)``, the log of the multivariate gamma function,
    for both engines' values: ``d (d - 1) / 4 log(pi) + sum_j gammaln(a - j / 2)``, j = 0
    .. d - 1 (scipy's is a Python function that calls np.asarray on ``a``).

    Parameters
    ----------
    a : float, array or engine value
        Every entry above ``(d - 1) / 2``.
    d : int
        The dimension, a positive integer.

    Returns
    -------
    float, array or engine value
        The log multivariate gamma function, shaped as ``a``.

    Examples
    --------
    >>> import hyperdual
    >>> # d = 1: gammaln; d/da gammaln(a) at 1 is digamma(1) = -0.5772...
    >>> round(float(hyperdual.derivative(lambda a: multigammaln(a, 1), 1.0)), 10)
    -0.5772156649
    """
    from scipy import special

    if not (engine_value(a) or is_traced_value(a)):
        return special.multigammaln(a, d)
    if not (isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d > 0):
        raise ValueError(f"multigammaln: d must be a positive integer, got {d!r}")
    if np.any(np.asarray(value(a)) <= 0.5 * (d - 1)):
        raise ValueError(f"multigammaln: condition a > 0.5 * (d - 1) = {0.5 * (d - 1)} not "
                         "met")
    out = d * (d - 1) / 4.0 * math.log(math.pi) + special.gammaln(a)
    for j in range(1, d):
        out = out + special.gammaln(a - 0.5 * j)
    return out
